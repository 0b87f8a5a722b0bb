"""Shared fixtures: the repository's paths and deterministic random points."""

import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CITY_TOML = REPO / "data" / "crs" / "city.toml"
CITY_JSON = REPO / "data" / "crs" / "city.json"
CRS_FILE_VECTORS = REPO / "tests" / "data" / "crs_file_vectors.csv"

# Tolerances of the repository's tests against PROJ (tests/proj_vectors.rs): 1 µm in metres,
# 1e-11° (about 1.1 µm on the ground) in degrees.
METRES = 1e-6
DEGREES = 1e-11


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)


def lonlat(rng, n, west, east, south, north):
    """``n`` uniform random longitudes and latitudes in a box, degrees."""
    return rng.uniform(west, east, n), rng.uniform(south, north, n)
