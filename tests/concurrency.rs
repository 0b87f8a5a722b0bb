//! Concurrency: one [`Transformer`] (and one [`Registry`]) shared by reference across many
//! threads gives, bit for bit, the results of one thread — for every entry point: single points
//! (`transform`, `transform_xy`), batches (`transform_slice` on 2D and 3D points,
//! `transform_columns` with and without heights, on every SIMD level this CPU has), the rayon
//! calls (`par_transform_slice`, `par_transform_columns`) and geometries
//! (`transform_geometry`), results *and* [`BatchReport`]s.
//!
//! The pipelines are random pairs of every built-in CRS (`catalogue::all()`) and every CRS of
//! `data/crs/city.toml` loaded through a [`Registry`] (city datums with 7-parameter shifts, local
//! grids by helmert4 / affine6 / poly2, raised projection surfaces), plus a Molodensky datum added
//! in code (an iterative inverse). The points are random: plausible points of the source CRS
//! (random geographic points in and around China carried into it), and raw values that the
//! pipeline must refuse or survive — NaN, ±inf, ±1e308, latitudes beyond ±90°, longitudes beyond
//! 10 radians, points far outside a zone, any bit pattern.
//!
//! Threads start together at a barrier, so they overlap as much as two cores allow (8 threads
//! on 2 cores interleave; nothing here measures time). The existing smoke test
//! `shared_across_threads_gives_identical_results` in `transformer.rs` covers one pipeline and
//! one call; this file covers the rest.
#![cfg(all(feature = "parallel", feature = "geo", feature = "crs-file"))]

use geo_types::{Coord, LineString, MultiPoint, Point};
use geounify::batch::{BatchReport, SimdLevel};
use geounify::ops::MolodenskyParams;
use geounify::{catalogue, Crs, CrsKind, Datum, DatumShift, Heights, Registry, Transformer};
use proptest::prelude::*;
use std::sync::{Barrier, OnceLock};

/// Threads sharing one transformer (the machine has 2 cores: they interleave).
const THREADS: usize = 8;

// `Transformer` and `Registry` are `Send + Sync`: checked at compile time (this file does not
// build otherwise).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Transformer>();
    send_sync::<Registry>();
    send_sync::<Crs>();
    send_sync::<BatchReport>();
};

/// The city CRS file plus a Molodensky datum and two CRSs on it.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::new();
        r.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
        // Illustrative translations of the size of a Beijing 1954 → CGCS2000 shift.
        let molodensky = Datum::beijing1954().with_shift(
            "bj54-molodensky",
            DatumShift::Molodensky(MolodenskyParams {
                dx: 15.8,
                dy: -154.4,
                dz: -82.3,
                abridged: false,
            }),
        );
        let geographic = Crs::new(
            "test:bj54-molo-geog",
            "BJ54 (Molodensky) geographic",
            molodensky.clone(),
            CrsKind::Geographic,
            None,
            None,
        )
        .unwrap();
        let CrsKind::Projected(gk) = catalogue::lookup("EPSG:2436").unwrap().kind().clone() else {
            panic!("EPSG:2436 is not projected")
        };
        let projected = Crs::new(
            "test:bj54-molo-gk117",
            "BJ54 (Molodensky) / GK CM 117E",
            molodensky,
            CrsKind::Projected(gk),
            None,
            None,
        )
        .unwrap();
        r.add_crs(geographic).unwrap();
        r.add_crs(projected).unwrap();
        r
    })
}

/// Every CRS id the pipelines are drawn from: the catalogue's, then the registry's own.
fn ids() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut ids: Vec<String> = catalogue::all().iter().map(|c| c.id().to_string()).collect();
        ids.extend(registry().user_crss().iter().map(|c| c.id().to_string()));
        ids
    })
}

/// Every (source, target) pair of [`ids`] that compiles (built-in Beijing 1954 and Xi'an 1980
/// have no shift to CGCS2000, so pairs across them and another datum do not), user pairs first
/// in the list's order.
fn pairs() -> &'static [(usize, usize)] {
    static PAIRS: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        let ids = ids();
        let r = registry();
        let crss: Vec<Crs> = ids.iter().map(|id| r.lookup(id).unwrap()).collect();
        let mut out = Vec::new();
        for (i, s) in crss.iter().enumerate() {
            for (j, t) in crss.iter().enumerate() {
                if Transformer::new(s, t).is_ok() {
                    out.push((i, j));
                }
            }
        }
        out
    })
}

/// The pairs of [`pairs`] with a CRS of the registry at one end or both.
fn user_pairs() -> &'static [(usize, usize)] {
    static USER: OnceLock<Vec<(usize, usize)>> = OnceLock::new();
    USER.get_or_init(|| {
        let first_user = catalogue::all().len();
        pairs().iter().copied().filter(|&(i, j)| i >= first_user || j >= first_user).collect()
    })
}

/// A point as drawn: a plausible geographic seed (carried into the source CRS), or raw values.
#[derive(Debug, Clone, Copy)]
enum PointSpec {
    /// Longitude, latitude (degrees) and height (metres) on the source CRS's datum.
    Seed(f64, f64, f64),
    /// Coordinates given to the transformer as they are.
    Raw(f64, f64, f64),
}

/// Values a file may hold: plausible degrees and metres, edge cases, and any bit pattern.
fn raw_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -200.0..200.0f64,
        3 => -2.0e7..4.0e7f64,
        2 => prop::sample::select(vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e308,
            f64::MAX,
            0.0,
            -0.0,
            5e-324,
            90.0,
            -90.0,
            90.000_000_1,
            -91.0,
            180.0,
            572.95,
            573.0,
            1e10,
            0.0065,
            0.006,
            105.0,
        ]),
        1 => any::<f64>(),
    ]
}

fn point_spec() -> impl Strategy<Value = PointSpec> {
    prop_oneof![
        // In and around China (zones far from a point's own give "outside the domain").
        3 => (60.0..150.0f64, -5.0..65.0f64, -200.0..5000.0f64)
            .prop_map(|(x, y, z)| PointSpec::Seed(x, y, z)),
        2 => (raw_value(), raw_value(), raw_value()).prop_map(|(x, y, z)| PointSpec::Raw(x, y, z)),
    ]
}

/// The points of `specs` in `source`'s coordinates (a seed that cannot be carried there is
/// used raw).
fn materialise(source: &Crs, specs: &[PointSpec]) -> Vec<[f64; 3]> {
    let geographic =
        Crs::new("seed", "seed", source.datum().clone(), CrsKind::Geographic, None, None).unwrap();
    // The seed's height is ellipsoidal on the source datum (the source may be 3D).
    let to_source = Transformer::with_heights(&geographic, source, Heights::Ellipsoidal).unwrap();
    specs
        .iter()
        .map(|s| match *s {
            PointSpec::Seed(x, y, z) => to_source.transform([x, y, z]).unwrap_or([x, y, z]),
            PointSpec::Raw(x, y, z) => [x, y, z],
        })
        .collect()
}

fn bits3(p: &[f64; 3]) -> [u64; 3] {
    p.map(f64::to_bits)
}

fn bits2(x: f64, y: f64) -> [u64; 2] {
    [x.to_bits(), y.to_bits()]
}

/// A report as text: `PointError` holds f64 values (NaN ≠ NaN), its `Debug` form is exact.
fn report(r: &BatchReport) -> String {
    format!("{r:?}")
}

/// Everything one thread computes for one transformer and one set of points, as bits and text.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    single: Vec<Result<[u64; 3], String>>,
    single_xy: Vec<Result<[u64; 2], String>>,
    slice3: (Vec<[u64; 3]>, String),
    slice2: (Vec<[u64; 2]>, String),
    /// `transform_slice_with` on each SIMD level this CPU has.
    levels: Vec<(Vec<[u64; 3]>, String)>,
    columns3: (Vec<[u64; 3]>, String),
    columns2: (Vec<[u64; 2]>, String),
    par_slice3: (Vec<[u64; 3]>, String),
    par_columns2: (Vec<[u64; 2]>, String),
    line: (Vec<[u64; 2]>, String),
    multipoint: (Vec<[u64; 2]>, String),
}

fn outcome(t: &Transformer, points: &[[f64; 3]]) -> Outcome {
    let single =
        points.iter().map(|p| t.transform(*p).map(|q| bits3(&q)).map_err(|e| format!("{e:?}")));
    let single_xy = points.iter().map(|p| {
        t.transform_xy(p[0], p[1]).map(|(x, y)| bits2(x, y)).map_err(|e| format!("{e:?}"))
    });
    let mut s3 = points.to_vec();
    let r3 = t.transform_slice(&mut s3);
    let mut s2: Vec<[f64; 2]> = points.iter().map(|p| [p[0], p[1]]).collect();
    let r2 = t.transform_slice(&mut s2);
    let levels = SimdLevel::ALL
        .into_iter()
        .filter(|l| l.is_supported())
        .map(|level| {
            let mut v = points.to_vec();
            let r = t.transform_slice_with(level, &mut v);
            (v.iter().map(bits3).collect(), report(&r))
        })
        .collect();
    let (mut x, mut y, mut z): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        points.iter().map(|p| p[0]).collect(),
        points.iter().map(|p| p[1]).collect(),
        points.iter().map(|p| p[2]).collect(),
    );
    let (mut x2, mut y2) = (x.clone(), y.clone());
    let c3 = t.transform_columns(&mut x, &mut y, Some(&mut z)).unwrap();
    let c2 = t.transform_columns(&mut x2, &mut y2, None).unwrap();
    let mut p3 = points.to_vec();
    let pr3 = t.par_transform_slice(&mut p3);
    let (mut px, mut py): (Vec<f64>, Vec<f64>) =
        (points.iter().map(|p| p[0]).collect(), points.iter().map(|p| p[1]).collect());
    let pc2 = t.par_transform_columns(&mut px, &mut py, None).unwrap();
    let coords: Vec<Coord<f64>> = points.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    let mut line = LineString::new(coords.clone());
    let rl = t.transform_geometry(&mut line);
    let mut multi = MultiPoint::new(coords.iter().map(|c| Point(*c)).collect());
    let rm = t.transform_geometry(&mut multi);
    Outcome {
        single: single.collect(),
        single_xy: single_xy.collect(),
        slice3: (s3.iter().map(bits3).collect(), report(&r3)),
        slice2: (s2.iter().map(|p| bits2(p[0], p[1])).collect(), report(&r2)),
        levels,
        columns3: ((0..x.len()).map(|i| bits3(&[x[i], y[i], z[i]])).collect(), report(&c3)),
        columns2: (x2.iter().zip(&y2).map(|(a, b)| bits2(*a, *b)).collect(), report(&c2)),
        par_slice3: (p3.iter().map(bits3).collect(), report(&pr3)),
        par_columns2: (px.iter().zip(&py).map(|(a, b)| bits2(*a, *b)).collect(), report(&pc2)),
        line: (line.0.iter().map(|c| bits2(c.x, c.y)).collect(), report(&rl)),
        multipoint: (multi.0.iter().map(|p| bits2(p.x(), p.y())).collect(), report(&rm)),
    }
}

/// The one-thread contract the threads are held to: every batch call agrees with `transform`
/// point by point (failed points NaN and reported at their index, in order).
fn check_batches_agree_with_single(o: &Outcome) {
    let nan = f64::NAN.to_bits();
    let expect3: Vec<[u64; 3]> = o.single.iter().map(|r| r.clone().unwrap_or([nan; 3])).collect();
    let failed: Vec<usize> =
        o.single.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, _)| i).collect();
    let failed_in = |report: &str| -> bool {
        failed.iter().all(|i| report.contains(&format!("index: {i},")))
            && report.matches("index:").count() == failed.len()
    };
    for (name, (values, rep)) in
        [("slice3", &o.slice3), ("columns3", &o.columns3), ("par_slice3", &o.par_slice3)]
            .into_iter()
            .chain(o.levels.iter().map(|l| ("level", l)))
    {
        for (i, (got, want)) in values.iter().zip(&expect3).enumerate() {
            let same = got == want
                || (o.single[i].is_err() && got.iter().all(|b| f64::from_bits(*b).is_nan()));
            assert!(same, "{name}[{i}]: {got:?} vs transform {:?}", o.single[i]);
        }
        assert!(failed_in(rep), "{name}: report {rep} vs failed {failed:?}");
    }
    let expect2: Vec<Option<[u64; 2]>> = o.single_xy.iter().map(|r| r.clone().ok()).collect();
    for (name, (values, _)) in [
        ("slice2", &o.slice2),
        ("columns2", &o.columns2),
        ("par_columns2", &o.par_columns2),
        ("line", &o.line),
        ("multipoint", &o.multipoint),
    ] {
        for (i, (got, want)) in values.iter().zip(&expect2).enumerate() {
            match want {
                Some(w) => assert_eq!(got, w, "{name}[{i}]"),
                None => assert!(got.iter().all(|b| f64::from_bits(*b).is_nan()), "{name}[{i}]"),
            }
        }
    }
}

/// Runs `outcome` on [`THREADS`] threads at once, sharing `t` by reference, and checks each
/// against the one-thread `reference`.
fn check_threads(t: &Transformer, points: &[[f64; 3]], reference: &Outcome) {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    outcome(t, points)
                })
            })
            .collect();
        for h in handles {
            let got = h.join().expect("a thread panicked");
            assert!(got == *reference, "{} → {}: a thread differs", t.source_id(), t.target_id());
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn random_pipelines_are_bit_identical_across_threads(
        user in any::<bool>(),
        pair in any::<prop::sample::Index>(),
        specs in prop::collection::vec(point_spec(), 1..40),
    ) {
        // Half the cases involve a CRS of the registry (a tenth of the pairs otherwise).
        let pairs = if user { user_pairs() } else { pairs() };
        let (i, j) = pairs[pair.index(pairs.len())];
        let r = registry();
        let (source, target) = (r.lookup(&ids()[i]).unwrap(), r.lookup(&ids()[j]).unwrap());
        let t = r.transformer(source.id(), target.id()).unwrap();
        let points = materialise(&source, &specs);
        let reference = outcome(&t, &points);
        check_batches_agree_with_single(&reference);
        check_threads(&t, &points, &reference);
        // The inverse pipeline too (the iterative inverses: GCJ-02, BD-09, BD-09MC, poly2,
        // Molodensky), on the forward's outputs as well as on the raw points.
        let inverse = t.inverse();
        let mut back: Vec<[f64; 3]> = reference
            .single
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|b| b.map(f64::from_bits)))
            .collect();
        back.extend_from_slice(&points);
        let reference = outcome(&inverse, &back);
        check_batches_agree_with_single(&reference);
        check_threads(&inverse, &back, &reference);
    }
}

/// The pairs the user CRSs and the iterative inverses meet in, on batches large enough that the
/// rayon calls split them (more than one 8192-point chunk), with a bad point every 97.
#[test]
fn large_batches_through_rayon_are_bit_identical_across_threads() {
    let r = registry();
    let pairs = [
        ("GCJ02", "city:poly-grid"),
        ("city:poly-grid", "BD09MC"),
        ("BD09", "city:old-grid"),
        ("city:cgcs-116.5-h60e", "test:bj54-molo-gk117"),
        ("test:bj54-molo-geog", "city:xian80-gk117"),
    ];
    let n = 9000;
    for (s, d) in pairs {
        let t = r.transformer(s, d).unwrap();
        let seeds: Vec<PointSpec> = (0..n)
            .map(|i| {
                let k = i as f64;
                if i % 97 == 13 {
                    let bad = [f64::NAN, f64::INFINITY, 1e308, 95.0, -1e10][(i / 97) % 5];
                    PointSpec::Raw(bad, 30.0, 0.0)
                } else {
                    PointSpec::Seed(
                        115.5 + (k * 0.618).fract() * 2.5,
                        39.0 + (k * 0.382).fract() * 2.0,
                        k % 300.0,
                    )
                }
            })
            .collect();
        let points = materialise(&r.lookup(s).unwrap(), &seeds);
        let one = |t: &Transformer| {
            let mut a = points.clone();
            let ra = t.par_transform_slice(&mut a);
            let (mut x, mut y, mut z): (Vec<f64>, Vec<f64>, Vec<f64>) = (
                points.iter().map(|p| p[0]).collect(),
                points.iter().map(|p| p[1]).collect(),
                points.iter().map(|p| p[2]).collect(),
            );
            let rc = t.par_transform_columns(&mut x, &mut y, Some(&mut z)).unwrap();
            let mut b = points.clone();
            let rb = t.transform_slice(&mut b);
            (
                a.iter().map(bits3).collect::<Vec<_>>(),
                report(&ra),
                (0..n).map(|i| bits3(&[x[i], y[i], z[i]])).collect::<Vec<_>>(),
                report(&rc),
                b.iter().map(bits3).collect::<Vec<_>>(),
                report(&rb),
            )
        };
        let reference = one(&t);
        assert_eq!(reference.0, reference.4, "{s} → {d}: par_transform_slice vs transform_slice");
        assert_eq!(reference.1, reference.5);
        assert_eq!(reference.2, reference.4, "{s} → {d}: par_transform_columns vs transform_slice");
        // NaN, inf and ±1e308 / ±1e10 fail in any source CRS (95 is a valid longitude).
        let bad = reference.1.matches("index:").count();
        assert!(bad >= 2 * (n / 97) / 5, "{s} → {d}: {bad} failures");
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|sc| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    sc.spawn(|| {
                        barrier.wait();
                        one(&t)
                    })
                })
                .collect();
            for h in handles {
                assert!(h.join().expect("a thread panicked") == reference, "{s} → {d}");
            }
        });
    }
}

/// One registry shared by many threads: lookups (user ids, catalogue ids, aliases, other case,
/// unknown ids) and `transformer()` give what one thread gets, and the transformers they build
/// transform alike.
#[test]
fn shared_registry_is_consistent_across_threads() {
    let r = registry();
    let mut names: Vec<String> = r.user_crss().iter().map(|c| c.id().to_string()).collect();
    names.extend(names.clone().iter().map(|id| id.to_uppercase()));
    names.extend(
        [
            "EPSG:4326",
            "wgs84",
            "CGCS2000",
            "EPSG:4547",
            "epsg:2436",
            "EPSG:2385",
            "GCJ02",
            "bd09",
            "BD09MC",
            "EPSG:3857",
        ]
        .map(String::from),
    );
    names.extend(["city:nowhere", "EPSG:99999", "", "city:poly-grid "].map(String::from));
    let datums = ["bj54-city", "XIAN80-CITY", "CGCS2000", "bj54", "nope"];
    let ellipsoids = ["krassovsky", "iag1975", "grs80", "nope"];
    let probe = [116.8, 39.9, 35.0];

    let run = || {
        let lookups: Vec<String> = names.iter().map(|id| format!("{:?}", r.lookup(id))).collect();
        let user: Vec<String> = names.iter().map(|id| format!("{:?}", r.user_crs(id))).collect();
        let d: Vec<String> = datums.iter().map(|id| format!("{:?}", r.datum(id))).collect();
        let e: Vec<String> = ellipsoids.iter().map(|id| format!("{:?}", r.ellipsoid(id))).collect();
        let mut built = Vec::new();
        for s in &names {
            for t in &names[..names.len().min(24)] {
                let result = r.transformer(s, t);
                let probe = result.as_ref().ok().map(|t| {
                    // A projected source gets the probe carried into it first.
                    let p = match r.transformer("EPSG:4490", s) {
                        Ok(to) => to.transform(probe).unwrap_or(probe),
                        Err(_) => probe,
                    };
                    format!("{:?}", t.transform(p).map(|q| bits3(&q)))
                });
                built.push((format!("{result:?}"), probe));
            }
        }
        (lookups, user, d, e, built)
    };
    let reference = run();
    assert!(reference.4.iter().any(|(t, _)| t.starts_with("Ok")));
    assert!(reference.4.iter().any(|(t, _)| t.starts_with("Err")));
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    run()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().expect("a thread panicked") == reference);
        }
    });
}
