//! Shared inputs for the benchmarks: deterministic points inside a zone.

/// `n` deterministic pseudo-random points (lon, lat in degrees) in the box
/// [lon0 − 1.5°, lon0 + 1.5°] × [lat_south, lat_south + 10°].
pub fn points_deg(n: usize, lon0: f64, lat_south: f64) -> Vec<[f64; 2]> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| [lon0 - 1.5 + 3.0 * next(), lat_south + 10.0 * next()]).collect()
}

/// Number of points per batch in every benchmark.
pub const BATCH: usize = 10_000;
