//! Geocentric lane kernels: accuracy against the closed form of the previous release kept here
//! as the reference, and a driver for instruction counts (`#[ignore]`d; run under callgrind).

use geounify::ops::{Geocentric, Operation, Xyz};
use geounify::Ellipsoid;
use std::hint::black_box;

/// Deterministic xorshift in [0, 1).
fn uniform(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// City-like points near China (radians, metres), forward-mapped to geocentric.
fn city_points(n: usize) -> (Vec<Xyz>, Vec<Xyz>) {
    let g = Geocentric::new(&Ellipsoid::grs80());
    let mut s = 0x9E37_79B9_7F4A_7C15;
    let geo: Vec<Xyz> = (0..n)
        .map(|_| {
            let lon = (112.5 + 3.0 * uniform(&mut s)).to_radians();
            let lat = (20.0 + 10.0 * uniform(&mut s)).to_radians();
            [lon, lat, 30.0 + 100.0 * uniform(&mut s)]
        })
        .collect();
    let cart = geo.iter().map(|p| g.forward(*p).unwrap()).collect();
    (geo, cart)
}

/// The lane kernel over columns, as the batch pipeline runs it (AVX2 when the CPU has it).
fn run_columns(
    g: &Geocentric,
    inverse: bool,
    x: &mut [f64],
    y: &mut [f64],
    z: &mut [f64],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(
            g: &Geocentric,
            inverse: bool,
            x: &mut [f64],
            y: &mut [f64],
            z: &mut [f64],
        ) -> usize {
            columns(g, inverse, x, y, z)
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were just detected.
            return unsafe { avx2(g, inverse, x, y, z) };
        }
    }
    columns(g, inverse, x, y, z)
}

#[inline(always)]
fn columns(g: &Geocentric, inverse: bool, x: &mut [f64], y: &mut [f64], z: &mut [f64]) -> usize {
    let mut ok_count = 0;
    for ((x, y), z) in x.iter_mut().zip(y.iter_mut()).zip(z.iter_mut()) {
        let p = [*x, *y, *z];
        let (q, ok) = if inverse { g.inverse_lane(p) } else { g.forward_lane(p) };
        *x = q[0];
        *y = q[1];
        *z = q[2];
        ok_count += ok as usize;
    }
    ok_count
}

/// The previous release's inverse, kept as the reference: Vermeille's closed form (Karney's
/// arrangement) with libm, exact to rounding for any point (its own tests and PROJ vectors
/// check it in tests/ops_geodesy.rs and tests/proj_vectors.rs). Valid away from the centre.
fn reference_inverse(e: &Ellipsoid, [x, y, z]: Xyz) -> Xyz {
    let (a, es) = (e.a(), e.es());
    let (e2m, e4) = (1.0 - es, es * es);
    let lon = y.atan2(x);
    let r = (x * x + y * y).sqrt();
    let p = (r / a) * (r / a);
    let q = e2m * (z / a) * (z / a);
    let rr = (p + q - e4) / 6.0;
    let s = e4 * p * q / 4.0;
    let r2 = rr * rr;
    let r3 = rr * r2;
    let disc = s * (2.0 * r3 + s);
    assert!(disc >= 0.0 && rr > 0.0);
    let t3 = s + r3 + disc.sqrt();
    let t = t3.cbrt();
    let u = rr + t + r2 / t;
    let v = (u * u + e4 * q).sqrt();
    let uv = u + v;
    let w = (es * (uv - q) / (2.0 * v)).max(0.0);
    let k = uv / ((uv + w * w).sqrt() + w);
    let (sphi, cphi) = (z / k, r / (k + es));
    let lat = sphi.atan2(cphi);
    let norm = (sphi * sphi + cphi * cphi).sqrt();
    let (sphi, cphi) = (sphi / norm, cphi / norm);
    let h = r * cphi + z * sphi - a * (1.0 - es * sphi * sphi).sqrt();
    [lon, lat, h]
}

/// The previous release's forward (libm).
fn reference_forward(e: &Ellipsoid, p: Xyz) -> Xyz {
    let (sphi, cphi) = p[1].sin_cos();
    let (slam, clam) = p[0].sin_cos();
    let n = e.a() / (1.0 - e.es() * sphi * sphi).sqrt();
    let r = (n + p[2]) * cphi;
    [r * clam, r * slam, (n * (1.0 - e.es()) + p[2]) * sphi]
}

/// Latitudes over the whole range, the poles (and ±1e-9 rad from them) and the equator.
fn latitudes(s: &mut u64, n: usize) -> Vec<f64> {
    let h = std::f64::consts::FRAC_PI_2;
    let mut v = vec![h, -h, h - 1e-9, -h + 1e-9, 0.0, 1e-9, -1e-9, 1e-300];
    v.extend((0..n).map(|_| h * (2.0 * uniform(s) - 1.0)));
    v
}

/// Max differences (lon rad, lat rad, h m) of the new inverse from the reference over points
/// at heights in `hs`, every latitude and longitude; all must take the kernel (ok).
fn inverse_diffs(e: &Ellipsoid, hs: &[f64]) -> [f64; 3] {
    let g = Geocentric::new(e);
    let mut s = 0x1234_5678_9abc_def1;
    let mut worst = [0.0f64; 3];
    for &h in hs {
        for lat in latitudes(&mut s, 2_000) {
            let lon = std::f64::consts::PI * (2.0 * uniform(&mut s) - 1.0);
            let c = reference_forward(e, [lon, lat, h]);
            let (got, ok) = g.inverse_lane(c);
            assert!(ok, "kernel declined {c:?} (h {h})");
            assert_eq!(g.inverse(c).unwrap(), got);
            let want = reference_inverse(e, c);
            // Longitude: compare modulo 2π (±π on the axis).
            let dlon = (got[0] - want[0]).abs();
            let dlon = dlon.min((dlon - std::f64::consts::TAU).abs());
            // On the polar axis the longitude is arbitrary (atan2 of ±0).
            let dlon = if c[0] == 0.0 && c[1] == 0.0 { 0.0 } else { dlon };
            worst[0] = worst[0].max(dlon);
            worst[1] = worst[1].max((got[1] - want[1]).abs());
            worst[2] = worst[2].max((got[2] - want[2]).abs());
        }
    }
    worst
}

/// The Bowring kernel against Vermeille's closed form near the surface: 1e-15 rad (fastmath's
/// atan2 is within 2 ulp, 8.9e-16 rad at π; measured 4.4e-16). Height: both sides form it as
/// R cos φ + Z sin φ − a √(1 − e² sin²φ) from terms of 6.4e6 m, whose ulp is 9.3e-10 m, so each
/// carries up to ~2.5 ulp of rounding (three rounded terms and two sums); measured 2.8e-9 m
/// (GRS80) and 3.7e-9 m (Krassovsky). 5e-9 m.
#[test]
fn inverse_kernel_matches_closed_form_near_surface() {
    let hs = [-1000.0, -100.0, 0.0, 1.0, 30.0, 500.0, 3000.0, 8848.0, 10_000.0];
    for e in [Ellipsoid::grs80(), Ellipsoid::krassovsky()] {
        let w = inverse_diffs(&e, &hs);
        println!(
            "near surface: max |dlon| {:e} rad, |dlat| {:e} rad, |dh| {:e} m",
            w[0], w[1], w[2]
        );
        assert!(w[0] <= 1e-15 && w[1] <= 1e-15 && w[2] <= 5e-9, "{w:?}");
    }
}

/// The same from −1 000 km to 10 000 km: terms of up to 1.6e7 m carry an ulp of 1.9e-9 m, so
/// the height tolerance is ~5 of those (measured 7.5e-9 m).
#[test]
fn inverse_kernel_matches_closed_form_up_to_10000_km() {
    let hs = [-1.0e6, -1.0e5, 2.0e4, 1.0e5, 4.0e5, 1.0e6, 3.6e6, 1.0e7];
    for e in [Ellipsoid::grs80(), Ellipsoid::krassovsky()] {
        let w = inverse_diffs(&e, &hs);
        println!(
            "-1000..10000 km: max |dlon| {:e} rad, |dlat| {:e} rad, |dh| {:e} m",
            w[0], w[1], w[2]
        );
        assert!(w[0] <= 1e-15 && w[1] <= 1e-15 && w[2] <= 1e-8, "{w:?}");
    }
}

/// Forward kernel against libm: X, Y, Z within a few ulps of 6.4e6 m.
#[test]
fn forward_kernel_matches_libm() {
    let e = Ellipsoid::grs80();
    let g = Geocentric::new(&e);
    let mut s = 0xdead_beef_cafe_f00d;
    let mut worst = 0.0f64;
    for h in [-1000.0, 0.0, 30.0, 8848.0, 1e5, 1e7] {
        for lat in latitudes(&mut s, 2_000) {
            let lon = std::f64::consts::PI * (2.0 * uniform(&mut s) - 1.0);
            let (got, ok) = g.forward_lane([lon, lat, h]);
            assert!(ok);
            let want = reference_forward(&e, [lon, lat, h]);
            for k in 0..3 {
                worst = worst.max((got[k] - want[k]).abs() / (1.0 + h.abs() / 6.4e6));
            }
        }
    }
    println!("forward: max |dXYZ| {worst:e} m (scaled to the surface)");
    assert!(worst <= 5e-9, "{worst}");
}

/// Points the kernels decline still work through the slow path.
#[test]
fn declined_points_take_the_slow_path() {
    let g = Geocentric::new(&Ellipsoid::grs80());
    for p in [[0.0, 0.0, 0.0], [1e3, 2e3, 3e3], [3e7, 0.0, 1e7], [1e300, 1e300, 1e300]] {
        assert!(!g.inverse_lane(p).1);
        assert!(g.inverse(p).unwrap().iter().all(|v| v.is_finite()), "{p:?}");
    }
    assert!(!g.forward_lane([2e5, 0.5, 0.0]).1);
    let far = g.forward([2e5, 0.5, 0.0]).unwrap();
    let want = reference_forward(&Ellipsoid::grs80(), [2e5, 0.5, 0.0]);
    assert_eq!(far, want);
    assert!(g.inverse([f64::NAN, 0.0, 0.0]).is_err());
    assert!(g.forward([0.0, 2.0, 0.0]).is_err());
    assert!(g.forward([f64::INFINITY, 0.0, 0.0]).is_err());
}

/// 1M points through one lane kernel (GEOC_DIR=forward|inverse), 10 passes over 100 000 points:
/// `valgrind --tool=callgrind target/release/deps/geocentric_lanes-* --ignored --exact
/// callgrind_driver`.
#[test]
#[ignore]
fn callgrind_driver() {
    let inverse = std::env::var("GEOC_DIR").as_deref() != Ok("forward");
    let g = Geocentric::new(&Ellipsoid::grs80());
    let (geo, cart) = city_points(100_000);
    let src = if inverse { &cart } else { &geo };
    let mut total = 0;
    for _ in 0..10 {
        let mut x: Vec<f64> = src.iter().map(|p| p[0]).collect();
        let mut y: Vec<f64> = src.iter().map(|p| p[1]).collect();
        let mut z: Vec<f64> = src.iter().map(|p| p[2]).collect();
        total += run_columns(&g, inverse, black_box(&mut x), black_box(&mut y), black_box(&mut z));
        black_box((&x, &y, &z));
    }
    assert_eq!(total, 1_000_000);
}
