//! Per-operation benchmarks (points per second, forward and inverse), with PROJ's equivalent
//! operator under `--features proj` in the same group so that criterion reports them side by
//! side on the same points.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use geounify::ops::{
    Bd09, Bd09Mc, ChinaBounds, GaussKruger, GaussKrugerParams, Gcj02, Geocentric, Helmert,
    HelmertConvention, Molodensky, MolodenskyParams, Op, Operation, WebMercator, Xyz,
};
use geounify::Ellipsoid;
use std::hint::black_box;

mod common;
#[path = "../tests/common/mod.rs"]
mod fixtures;
use common::{points_deg, BATCH};

/// A (forward, inverse) pair of another implementation, on degrees.
type Baseline = (fn(f64, f64) -> (f64, f64), fn(f64, f64) -> (f64, f64));

/// One benchmarked operation: its geounify form, the input of its forward direction, the PROJ
/// operator string that does the same (where PROJ has one), and the `coordtransform` crate's
/// functions (for the web-map systems; its region test is skipped through its "in mainland"
/// entry points, as ours is a cheap box test).
struct Case {
    name: &'static str,
    op: Op,
    input: Vec<Xyz>,
    #[cfg_attr(not(feature = "proj"), allow(dead_code))]
    proj: Option<&'static str>,
    coordtransform: Option<Baseline>,
}

fn apply(op: &Op, points: &mut [Xyz], inverse: bool) {
    for p in points.iter_mut() {
        let r = if inverse { op.inverse(*p) } else { op.forward(*p) };
        *p = r.unwrap_or([f64::NAN; 3]);
    }
}

fn cases() -> Vec<Case> {
    let radians: Vec<Xyz> = points_deg(BATCH, 114.0, 20.0)
        .iter()
        .map(|p| [p[0].to_radians(), p[1].to_radians(), 30.0])
        .collect();
    let grs80 = Ellipsoid::grs80();
    let geocentric = Geocentric::new(&grs80);
    let mut cartesian = radians.clone();
    apply(&Op::Geocentric(geocentric.clone()), &mut cartesian, false);
    let helmert = fixtures::city_helmert(HelmertConvention::CoordinateFrame);
    let gk = GaussKrugerParams { lon0: 114.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 };
    let molodensky = MolodenskyParams { dx: 15.8, dy: -154.4, dz: -82.3, abridged: false };
    vec![
        Case {
            name: "gauss_kruger",
            op: Op::GaussKruger(GaussKruger::new(&grs80, gk).unwrap()),
            input: radians.clone(),
            proj: Some("+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80"),
            coordtransform: None,
        },
        Case {
            name: "geocentric",
            op: Op::Geocentric(geocentric),
            input: radians.clone(),
            proj: Some("+proj=cart +ellps=GRS80"),
            coordtransform: None,
        },
        Case {
            name: "helmert7",
            op: Op::Helmert(Helmert::new(helmert).unwrap()),
            input: cartesian,
            proj: Some(
                "+proj=helmert +x=-12.7 +y=131.2 +z=47.6 +rx=0.41 +ry=-0.16 +rz=1.05 +s=-2.7 \
                 +convention=coordinate_frame",
            ),
            coordtransform: None,
        },
        Case {
            name: "molodensky",
            op: Op::Molodensky(
                Molodensky::new(&Ellipsoid::krassovsky(), &grs80, molodensky).unwrap(),
            ),
            input: radians.clone(),
            proj: Some(
                "+proj=molodensky +ellps=krass +dx=15.8 +dy=-154.4 +dz=-82.3 +da=-108 \
                 +df=4.808119e-7",
            ),
            coordtransform: None,
        },
        Case {
            name: "gcj02",
            op: Op::Gcj02(Gcj02::new(ChinaBounds::UsualBox)),
            input: radians.clone(),
            proj: None,
            coordtransform: Some((
                coordtransform::wgs84_to_gcj02_in_mainland,
                coordtransform::gcj02_to_wgs84_in_mainland,
            )),
        },
        Case {
            name: "bd09",
            op: Op::Bd09(Bd09::new()),
            input: radians.clone(),
            proj: None,
            coordtransform: Some((coordtransform::gcj02_to_bd09, coordtransform::bd09_to_gcj02)),
        },
        Case {
            name: "bd09mc",
            op: Op::Bd09Mc(Bd09Mc::new()),
            input: radians.clone(),
            proj: None,
            coordtransform: None,
        },
        Case {
            name: "web_mercator",
            op: Op::WebMercator(WebMercator::new()),
            input: radians,
            proj: Some("+proj=webmerc +ellps=WGS84"),
            coordtransform: None,
        },
    ]
}

fn operations(c: &mut Criterion) {
    for case in cases() {
        let mut output = case.input.clone();
        apply(&case.op, &mut output, false);
        let mut group = c.benchmark_group(case.name);
        group.throughput(Throughput::Elements(BATCH as u64));
        for (direction, input, inverse) in
            [("forward", &case.input, false), ("inverse", &output, true)]
        {
            group.bench_function(BenchmarkId::new("geounify", direction), |b| {
                b.iter_batched_ref(
                    || input.clone(),
                    |pts| apply(&case.op, black_box(pts), inverse),
                    BatchSize::LargeInput,
                )
            });
            #[cfg(feature = "proj")]
            if let Some(definition) = case.proj {
                proj_bench(&mut group, definition, direction, input, inverse);
            }
            if let Some((forward, backward)) = case.coordtransform {
                let f = if inverse { backward } else { forward };
                let degrees: Vec<(f64, f64)> =
                    input.iter().map(|p| (p[0].to_degrees(), p[1].to_degrees())).collect();
                group.bench_function(BenchmarkId::new("coordtransform", direction), |b| {
                    b.iter_batched_ref(
                        || degrees.clone(),
                        |pts| {
                            for p in black_box(pts).iter_mut() {
                                *p = f(p.0, p.1);
                            }
                        },
                        BatchSize::LargeInput,
                    )
                });
            }
        }
        group.finish();
    }
}

/// The same operator in PROJ, through the `proj` crate's batch call (`proj_trans` per point on
/// a copied buffer). PROJ's 2D API is used: height 0 for the 3D operators, which costs the same.
#[cfg(feature = "proj")]
fn proj_bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    definition: &str,
    direction: &str,
    input: &[Xyz],
    inverse: bool,
) {
    let op = proj::Proj::new(definition).unwrap();
    let pts: Vec<(f64, f64)> = input.iter().map(|p| (p[0], p[1])).collect();
    group.bench_function(BenchmarkId::new("proj", direction), |b| {
        b.iter_batched_ref(
            || pts.clone(),
            |pts| {
                // Errors (none expected on these points) must not abort the benchmark.
                let _ = op.project_array(black_box(pts), inverse);
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, operations);
criterion_main!(benches);
