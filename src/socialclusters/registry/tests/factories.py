"""factory_boy factories for registry rows; reference data (regions, sectors) comes from the real load."""

from __future__ import annotations

import factory

from socialclusters.registry import models


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Source

    kind = models.SourceKind.DATASET
    name = factory.Sequence(lambda n: f"test-dataset-{n}")
    version = "1"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Organisation

    name = factory.Sequence(lambda n: f"Cooperative number {n}")
    kind = models.OrganisationKind.COOPERATIVE
    status = models.OrganisationStatus.ACTIVE
    country_id = "FR"
    city = "Lyon"


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Cluster

    name = factory.Sequence(lambda n: f"Territorial cluster {n}")
    kind = models.ClusterKind.SOCIAL_ECONOMY
    country_id = "FR"
    publication_status = models.PublicationStatus.PUBLISHED


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    organisation = factory.SubFactory(OrganisationFactory)
    cluster = factory.SubFactory(ClusterFactory)
