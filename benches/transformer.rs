//! Whole-transformer benchmarks (points per second): geounify's compiled pipelines against PROJ's
//! (`--features proj`) on the same points in the same run, and one thread against rayon.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use geounify::ops::HelmertConvention;
use geounify::{catalogue, Crs, Datum, DatumShift, Transformer};
use std::hint::black_box;

mod common;
#[path = "../tests/common/mod.rs"]
mod fixtures;
use common::{points_deg, BATCH};

/// A city Beijing 1954 grid (GK CM 117E on Krassovsky) with a 7-parameter coordinate-frame
/// Helmert to CGCS2000.
fn city_grid() -> Crs {
    let params = fixtures::city_helmert(HelmertConvention::CoordinateFrame);
    let base = catalogue::lookup("EPSG:2436").unwrap();
    let datum = Datum::beijing1954().with_shift("bj54-city", DatumShift::Helmert(params));
    Crs::new("city:grid", "city grid", datum, base.kind().clone(), None, None).unwrap()
}

#[cfg(feature = "proj")]
const CITY_PIPELINE: &str = "+proj=pipeline \
    +step +inv +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass \
    +step +proj=cart +ellps=krass \
    +step +proj=helmert +x=-12.7 +y=131.2 +z=47.6 +rx=0.41 +ry=-0.16 +rz=1.05 +s=-2.7 +convention=coordinate_frame \
    +step +inv +proj=cart +ellps=GRS80 \
    +step +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80";

fn cgcs2000_to_zone(c: &mut Criterion) {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let pts = points_deg(BATCH, 114.0, 20.0);
    let mut group = c.benchmark_group("epsg4490_to_epsg4547");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("geounify", "slice"), |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |p| t.transform_slice(black_box(p)),
            BatchSize::LargeInput,
        )
    });
    #[cfg(feature = "proj")]
    bench_proj(
        &mut group,
        "convert_array",
        proj::Proj::new_known_crs("EPSG:4490", "EPSG:4547", None),
        &pts,
    );
    group.finish();
}

fn city_grid_to_zone(c: &mut Criterion) {
    let t = Transformer::new(&city_grid(), &catalogue::lookup("EPSG:4548").unwrap()).unwrap();
    let geographic = points_deg(BATCH, 117.0, 30.0);
    // Grid coordinates: the geographic points projected with the grid's own projection.
    let grid_proj = Transformer::from_ids("EPSG:4214", "EPSG:2436").unwrap();
    let mut pts = geographic.clone();
    grid_proj.transform_slice(&mut pts);

    let mut group = c.benchmark_group("city_grid_to_epsg4548");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("geounify", "slice"), |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |p| t.transform_slice(black_box(p)),
            BatchSize::LargeInput,
        )
    });
    #[cfg(feature = "proj")]
    bench_proj(&mut group, "pipeline", proj::Proj::new(CITY_PIPELINE), &pts);
    group.finish();
}

/// PROJ's conversion of the same points, through the `proj` crate's batch call.
#[cfg(feature = "proj")]
fn bench_proj(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    conversion: Result<proj::Proj, proj::ProjCreateError>,
    pts: &[[f64; 2]],
) {
    let p = conversion.unwrap();
    let tuples: Vec<(f64, f64)> = pts.iter().map(|q| (q[0], q[1])).collect();
    group.bench_function(BenchmarkId::new("proj", label), |b| {
        b.iter_batched_ref(
            || tuples.clone(),
            |q| {
                p.convert_array(black_box(q)).unwrap();
            },
            BatchSize::LargeInput,
        )
    });
}

fn parallel(c: &mut Criterion) {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let n = 1_000_000;
    let pts = points_deg(n, 114.0, 20.0);
    let mut group = c.benchmark_group("parallel_1m");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("one_thread", |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |p| t.transform_slice(black_box(p)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("rayon", |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |p| t.par_transform_slice(black_box(p)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, cgcs2000_to_zone, city_grid_to_zone, parallel);
criterion_main!(benches);
