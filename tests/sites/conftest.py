from tests.sites.fixtures import site_admins, site_plants, sites, sites_source, two_sites, two_sites_with

__all__ = ["site_admins", "site_plants", "sites", "sites_source", "two_sites", "two_sites_with"]
