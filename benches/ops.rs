//! Per-operation benchmarks (points per second), with PROJ's equivalent under `--features proj`
//! in the same group so that criterion reports them side by side.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use geounify::ops::{Bd09, ChinaBounds, GaussKruger, GaussKrugerParams, Gcj02, Operation};
use geounify::Ellipsoid;
use std::hint::black_box;

mod common;
use common::{points_deg, BATCH};

fn gk_params() -> GaussKrugerParams {
    GaussKrugerParams { lon0: 114.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 }
}

fn radians(points: &[[f64; 2]]) -> Vec<[f64; 3]> {
    points.iter().map(|p| [p[0].to_radians(), p[1].to_radians(), 0.0]).collect()
}

fn apply(op: &impl Operation, points: &mut [[f64; 3]], inverse: bool) {
    for p in points.iter_mut() {
        let r = if inverse { op.inverse(*p) } else { op.forward(*p) };
        *p = r.unwrap_or([f64::NAN; 3]);
    }
}

fn gauss_kruger(c: &mut Criterion) {
    let gk = GaussKruger::new(&Ellipsoid::grs80(), gk_params()).unwrap();
    let geographic = radians(&points_deg(BATCH, 114.0, 20.0));
    let mut projected = geographic.clone();
    apply(&gk, &mut projected, false);

    let mut group = c.benchmark_group("gauss_kruger");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("geounify", "forward"), |b| {
        b.iter_batched_ref(
            || geographic.clone(),
            |pts| apply(&gk, black_box(pts), false),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function(BenchmarkId::new("geounify", "inverse"), |b| {
        b.iter_batched_ref(
            || projected.clone(),
            |pts| apply(&gk, black_box(pts), true),
            criterion::BatchSize::LargeInput,
        )
    });
    #[cfg(feature = "proj")]
    {
        let tmerc = proj::Proj::new(
            "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m",
        )
        .unwrap();
        let geo2: Vec<(f64, f64)> = geographic.iter().map(|p| (p[0], p[1])).collect();
        let proj2: Vec<(f64, f64)> = projected.iter().map(|p| (p[0], p[1])).collect();
        group.bench_function(BenchmarkId::new("proj", "forward"), |b| {
            b.iter_batched_ref(
                || geo2.clone(),
                |pts| {
                    tmerc.project_array(black_box(pts), false).unwrap();
                },
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("proj", "inverse"), |b| {
            b.iter_batched_ref(
                || proj2.clone(),
                |pts| {
                    tmerc.project_array(black_box(pts), true).unwrap();
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn web_maps(c: &mut Criterion) {
    let gcj = Gcj02::new(ChinaBounds::UsualBox);
    let bd = Bd09::new();
    let wgs = radians(&points_deg(BATCH, 114.0, 20.0));
    let mut mars = wgs.clone();
    apply(&gcj, &mut mars, false);

    let mut group = c.benchmark_group("web_maps");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("gcj02_forward", |b| {
        b.iter_batched_ref(
            || wgs.clone(),
            |pts| apply(&gcj, black_box(pts), false),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("gcj02_inverse_exact", |b| {
        b.iter_batched_ref(
            || mars.clone(),
            |pts| apply(&gcj, black_box(pts), true),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("bd09_forward", |b| {
        b.iter_batched_ref(
            || mars.clone(),
            |pts| apply(&bd, black_box(pts), false),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, gauss_kruger, web_maps);
criterion_main!(benches);
