//! Driver for measuring the Gauss-Krüger lane kernels (callgrind / perf): forward then inverse
//! over N points (default 1 000 000) of a 6° zone at 18–54°N through `forward_lane` /
//! `inverse_lane` in plain loops (`cargo run --release --example gk_lanes [N]`), or with a
//! second argument `batch`, EPSG:4490 → EPSG:4547 and back through the batch pipeline (the
//! per-ISA loops; `GEOUNIFY_SIMD` picks the level).

use geounify::ops::{GaussKruger, GaussKrugerParams, Operation, Xyz};
use geounify::{Ellipsoid, Transformer};
use std::hint::black_box;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let gk = GaussKruger::new(
        &Ellipsoid::grs80(),
        GaussKrugerParams { lon0: 117.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 },
    )
    .expect("valid zone");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut pts: Vec<Xyz> = (0..n)
        .map(|_| [(114.0 + 6.0 * next()).to_radians(), (18.0 + 36.0 * next()).to_radians(), 0.0])
        .collect();
    if std::env::args().nth(2).as_deref() == Some("batch") {
        let there = Transformer::from_ids("EPSG:4490", "EPSG:4547").expect("catalogue");
        let back = Transformer::from_ids("EPSG:4547", "EPSG:4490").expect("catalogue");
        let mut deg: Vec<[f64; 2]> =
            pts.iter().map(|p| [p[0].to_degrees(), p[1].to_degrees()]).collect();
        let r1 = there.transform_slice(&mut deg);
        let r2 = back.transform_slice(black_box(&mut deg));
        let sum: f64 = deg.iter().map(|p| p[0] + p[1]).sum();
        println!("failed {} + {}, checksum {sum:.6}", r1.failed(), r2.failed());
        return;
    }
    let mut ok = 0usize;
    for p in pts.iter_mut() {
        let (q, good) = gk.forward_lane(*p);
        *p = q;
        ok += good as usize;
    }
    let pts = black_box(pts);
    let mut sum = 0.0;
    for p in pts.iter() {
        let (q, good) = gk.inverse_lane(*p);
        sum += q[0] + q[1];
        ok += good as usize;
    }
    println!("{ok} ok of {}, checksum {sum:.6}", 2 * n);
}
