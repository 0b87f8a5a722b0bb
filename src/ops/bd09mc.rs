//! BD-09 → Baidu Mercator (BD-09MC, the metre coordinates of Baidu Maps tiles and APIs), with
//! an exact inverse.
//!
//! Baidu's `convertLL2MC` is not a Mercator formula but a table of polynomial bands in
//! latitude. For a band with coefficients `c[0..10]`, in degrees:
//!
//! ```text
//! x = sign(lon)·(c0 + c1·|lon|)
//! y = sign(lat)·(c2 + c3·s + c4·s² + … + c8·s⁶),   s = |lat| / c9
//! ```
//!
//! The band is chosen by latitude: `lat ≥ 60°`, `[45°, 60°)`, `[30°, 45°)`, `[15°, 30°)`,
//! `[0°, 15°)`; Baidu clamps latitudes to ±74° (so its `lat ≥ 75°` band is never used) and
//! wraps longitudes into [−180°, 180°]. Southern latitudes always use the `[0°, 15°)` band —
//! that is what Baidu's code does (its search loop for negative latitudes stops at the first
//! band), and every converter copies it.
//!
//! Constants: [`LL2MC`], [`MC2LL`], [`LL_BAND`], [`MC_BAND`] are Baidu's published tables. They
//! were cross-checked digit for digit between three independent copies: the maptalks-style
//! `BAIDU` projection (JavaScript), a Python `lonlatHelper`, and a Java `GpsCoordUtil` (which
//! writes them in a different literal format, e.g. `898305509648872e-20`); all three agree
//! exactly. Test vectors: `(116.403874, 39.914889) → (12958160.97, 4825907.72)`
//! (BaiduMapPointConverter README; also Baidu's IP-location answer for Beijing),
//! `(116.274625, 39.961627) → (12943772.884424742, 4832666.423350099)` (bd09convertor
//! README), `(113.768261, 23.036282) → (12664762.69, 2619536)` (a comment quoting Baidu's JS
//! API `BMap.Projection.convertLL2MC`).
//!
//! # Differences from Baidu's code
//!
//! - Latitudes beyond ±74° are refused ([`PointError::OutsideDomain`]) instead of silently
//!   clamped.
//! - The inverse is exact: Baidu's own `convertMC2LL` tables are off by up to 6e-5° (≈ 7 m)
//!   in latitude; here they are only the starting guess of a Newton iteration on the forward
//!   polynomial ([`bd09mc_to_bd09_baidu_approx_deg`] keeps Baidu's approximate inverse for
//!   comparison).
//!
//! # Discontinuities (what the inverse does in the gaps)
//!
//! The bands do not join: at each band edge the northing jumps up by 9.8 mm (15°), 4.4 cm
//! (30°), 41 cm (45°) and 14.6 m (60°), and at the equator it starts at ±3.7 mm. The
//! forward is strictly increasing in latitude, so it is one-to-one, but a northing inside such
//! a gap has no preimage: the inverse returns the band-edge latitude (the forward of which is
//! the top of the gap), so `forward(inverse(mc))` differs from `mc` by at most the gap width
//! there and by < 1e-6 m everywhere else. Likewise eastings within a few millimetres of the
//! prime meridian (where `c0 ≠ 0`) map to longitude 0 or to a tiny longitude of the sign of
//! the easting.

use super::gcj02::MAX_ITERATIONS;
use super::{check_finite, check_geographic, Operation, Xyz};
use crate::error::PointError;

const OP: &str = "bd09mc";

/// Baidu's latitude bands (degrees): band `j` is used for `lat ≥ LL_BAND[j]` (first match).
pub const LL_BAND: [f64; 6] = [75.0, 60.0, 45.0, 30.0, 15.0, 0.0];
/// Baidu's northing bands (metres) for its approximate inverse: band `j` for `|y| ≥ MC_BAND[j]`.
pub const MC_BAND: [f64; 6] =
    [12_890_594.86, 8_362_377.87, 5_591_021.0, 3_481_989.83, 1_678_043.12, 0.0];

/// Baidu's `LL2MC` coefficients, one row per band of [`LL_BAND`] (row 0 is never used, since
/// latitudes are limited to ±74°).
#[allow(clippy::excessive_precision)]
pub const LL2MC: [[f64; 10]; 6] = [
    [
        -0.0015702102444,
        111320.7020616939,
        1704480524535203.0,
        -10338987376042340.0,
        26112667856603880.0,
        -35149669176653700.0,
        26595700718403920.0,
        -10725012454188240.0,
        1800819912950474.0,
        82.5,
    ],
    [
        0.0008277824516172526,
        111320.7020463578,
        647795574.6671607,
        -4082003173.641316,
        10774905663.51142,
        -15171875531.51559,
        12053065338.62167,
        -5124939663.577472,
        913311935.9512032,
        67.5,
    ],
    [
        0.00337398766765,
        111320.7020202162,
        4481351.045890365,
        -23393751.19931662,
        79682215.47186455,
        -115964993.2797253,
        97236711.15602145,
        -43661946.33752821,
        8477230.501135234,
        52.5,
    ],
    [
        0.00220636496208,
        111320.7020209128,
        51751.86112841131,
        3796837.749470245,
        992013.7397791013,
        -1221952.21711287,
        1340652.697009075,
        -620943.6990984312,
        144416.9293806241,
        37.5,
    ],
    [
        -0.0003441963504368392,
        111320.7020576856,
        278.2353980772752,
        2485758.690035394,
        6070.750963243378,
        54821.18345352118,
        9540.606633304236,
        -2710.55326746645,
        1405.483844121726,
        22.5,
    ],
    [
        -0.0003218135878613132,
        111320.7020701615,
        0.00369383431289,
        823725.6402795718,
        0.46104986909093,
        2351.343141331292,
        1.58060784298199,
        8.77738589078284,
        0.37238884252424,
        7.45,
    ],
];

/// Baidu's approximate inverse `MC2LL` coefficients, one row per band of [`MC_BAND`].
#[allow(clippy::excessive_precision)]
pub const MC2LL: [[f64; 10]; 6] = [
    [
        1.410526172116255e-8,
        0.00000898305509648872,
        -1.9939833816331,
        200.9824383106796,
        -187.2403703815547,
        91.6087516669843,
        -23.38765649603339,
        2.57121317296198,
        -0.03801003308653,
        17337981.2,
    ],
    [
        -7.435856389565537e-9,
        0.000008983055097726239,
        -0.78625201886289,
        96.32687599759846,
        -1.85204757529826,
        -59.36935905485877,
        47.40033549296737,
        -16.50741931063887,
        2.28786674699375,
        10260144.86,
    ],
    [
        -3.030883460898826e-8,
        0.00000898305509983578,
        0.30071316287616,
        59.74293618442277,
        7.357984074871,
        -25.38371002664745,
        13.45380521110908,
        -3.29883767235584,
        0.32710905363475,
        6856817.37,
    ],
    [
        -1.981981304930552e-8,
        0.000008983055099779535,
        0.03278182852591,
        40.31678527705744,
        0.65659298677277,
        -4.44255534477492,
        0.85341911805263,
        0.12923347998204,
        -0.04625736007561,
        4482777.06,
    ],
    [
        3.09191371068437e-9,
        0.000008983055096812155,
        0.00006995724062,
        23.10934304144901,
        -0.00023663490511,
        -0.6321817810242,
        -0.00663494467273,
        0.03430082397953,
        -0.00466043876332,
        2555164.4,
    ],
    [
        2.890871144776878e-9,
        0.000008983055095805407,
        -3.068298e-8,
        7.47137025468032,
        -0.00000353937994,
        -0.02145144861037,
        -0.00001234426596,
        0.00010322952773,
        -0.00000323890364,
        826088.5,
    ],
];

/// The largest |latitude| Baidu Mercator accepts, degrees.
pub const MAX_LAT_DEG: f64 = 74.0;
/// The inverse's convergence tolerance on the northing, metres.
const Y_TOLERANCE_M: f64 = 1e-7;

/// Baidu Mercator forward (BD-09 `[lon, lat, h]` in radians → `[x, y, h]` in metres) and exact
/// inverse; h passes through.
///
/// Accuracy: the forward is Baidu's published `convertLL2MC` (Horner evaluation; equal to ~1e-8 m
/// below 60°, rounding in the large ≥ 60° coefficients reaches ~1e-6 m); the inverse
/// recovers the latitude to ~1e-12° and reproduces its input through the forward to < 1e-6 m
/// (in the ≥ 60° band, to the rounding of that band's polynomial: latitude ≤ 4e-11°,
/// northing ≤ 1.5e-5 m) except inside the band-edge gaps described in the module docs.
/// Errors: non-finite input →
/// [`PointError::NonFinite`]; |lat| > 90° → [`PointError::LatitudeOutOfRange`]; |lat| > 74°,
/// or a northing beyond the forward's image of ±74° → [`PointError::OutsideDomain`]; a Newton
/// iteration not converging in 30 steps → [`PointError::NoConvergence`] (not observed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bd09Mc;

impl Bd09Mc {
    /// Baidu's published transformation.
    pub fn new() -> Self {
        Self
    }
}

impl Operation for Bd09Mc {
    fn name(&self) -> &'static str {
        "bd09mc"
    }

    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_geographic(p)?;
        let (x, y) = bd09_to_bd09mc_deg(p[0].to_degrees(), p[1].to_degrees())?;
        Ok([x, y, p[2]])
    }

    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        let (lon, lat) = bd09mc_to_bd09_deg(p[0], p[1])?;
        Ok([lon.to_radians(), lat.to_radians(), p[2]])
    }
}

/// Wraps a longitude in degrees into [−180°, 180°] (values in range unchanged), as Baidu's
/// `getLoop` does (without its unbounded loop).
fn wrap_lon_deg(lon: f64) -> f64 {
    if (-180.0..=180.0).contains(&lon) {
        lon
    } else {
        lon - 360.0 * (lon / 360.0).round()
    }
}

/// The band used by the forward for a latitude in degrees (|lat| ≤ 74).
fn band_of(lat: f64) -> usize {
    if lat < 0.0 {
        return 5; // Baidu's southern-hemisphere behaviour (see the module docs).
    }
    LL_BAND.iter().position(|&b| lat >= b).unwrap_or(5)
}

/// The northing polynomial of band `c` at |lat| = `t` (degrees), and its derivative per degree.
fn northing(c: &[f64; 10], t: f64) -> (f64, f64) {
    let s = t / c[9];
    let p = c[2] + s * (c[3] + s * (c[4] + s * (c[5] + s * (c[6] + s * (c[7] + s * c[8])))));
    let dp = c[3]
        + s * (2.0 * c[4]
            + s * (3.0 * c[5] + s * (4.0 * c[6] + s * (5.0 * c[7] + s * 6.0 * c[8]))));
    (p, dp / c[9])
}

fn signed(v: f64, negative: bool) -> f64 {
    if negative {
        -v
    } else {
        v
    }
}

/// BD-09 `(lon, lat)` in degrees → BD-09MC `(x, y)` in metres (Baidu's `convertLL2MC`).
/// Errors as [`Bd09Mc`]'s forward.
pub fn bd09_to_bd09mc_deg(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(PointError::NonFinite);
    }
    if lat.abs() > 90.0 + 1e-10 {
        return Err(PointError::LatitudeOutOfRange { latitude_deg: lat });
    }
    if lat.abs() > MAX_LAT_DEG {
        return Err(PointError::OutsideDomain { operation: OP });
    }
    let lon = wrap_lon_deg(lon);
    let c = &LL2MC[band_of(lat)];
    let x = signed(c[0] + c[1] * lon.abs(), lon < 0.0);
    let y = signed(northing(c, lat.abs()).0, lat < 0.0);
    Ok((x, y))
}

/// Baidu's own **approximate** inverse `convertMC2LL`, BD-09MC metres → BD-09 degrees, off by
/// up to 6e-5° (≈ 7 m) in latitude. For comparison only: use [`bd09mc_to_bd09_deg`].
/// Non-finite input → error.
pub fn bd09mc_to_bd09_baidu_approx_deg(x: f64, y: f64) -> Result<(f64, f64), PointError> {
    if !(x.is_finite() && y.is_finite()) {
        return Err(PointError::NonFinite);
    }
    let (lon, lat) = baidu_approx(x, y);
    Ok((lon, lat))
}

fn baidu_approx(x: f64, y: f64) -> (f64, f64) {
    let t = y.abs();
    let c = &MC2LL[MC_BAND.iter().position(|&b| t >= b).unwrap_or(5)];
    let lon = c[0] + c[1] * x.abs();
    let s = t / c[9];
    let lat = c[2] + s * (c[3] + s * (c[4] + s * (c[5] + s * (c[6] + s * (c[7] + s * c[8])))));
    (signed(lon, x < 0.0), signed(lat, y < 0.0))
}

/// Exact BD-09MC `(x, y)` in metres → BD-09 `(lon, lat)` in degrees: the latitude solves the
/// forward's band polynomial (Newton from Baidu's approximate inverse), the longitude inverts
/// its linear easting. Errors as [`Bd09Mc`]'s inverse; see the module docs for the gaps.
pub fn bd09mc_to_bd09_deg(x: f64, y: f64) -> Result<(f64, f64), PointError> {
    bd09mc_to_bd09_deg_with_max_iterations(x, y, MAX_ITERATIONS)
}

/// [`bd09mc_to_bd09_deg`] with another Newton iteration cap: for tests, which show with a small
/// cap that hitting it is reported as [`PointError::NoConvergence`] (no valid input reaches the
/// real cap of [`MAX_ITERATIONS`]).
#[doc(hidden)]
pub fn bd09mc_to_bd09_deg_with_max_iterations(
    x: f64,
    y: f64,
    max_iterations: u32,
) -> Result<(f64, f64), PointError> {
    if !(x.is_finite() && y.is_finite()) {
        return Err(PointError::NonFinite);
    }
    let south = y < 0.0;
    let t = y.abs();
    // (band, lower latitude, upper latitude) that the solution lies in, or a gap's edge.
    let (band, lat_abs) = if south {
        let c = &LL2MC[5];
        if t > northing(c, MAX_LAT_DEG).0 {
            return Err(PointError::OutsideDomain { operation: OP });
        }
        (5, solve_band(c, t, 0.0, MAX_LAT_DEG, baidu_approx(0.0, t).1, max_iterations)?)
    } else {
        if t > northing(&LL2MC[1], MAX_LAT_DEG).0 {
            return Err(PointError::OutsideDomain { operation: OP });
        }
        let mut found = None;
        for j in 1..=5 {
            let c = &LL2MC[j];
            let lo = LL_BAND[j];
            if t >= northing(c, lo).0 {
                let hi = if j == 1 { MAX_LAT_DEG } else { LL_BAND[j - 1] };
                if j > 1 && t > northing(c, hi).0 {
                    // Gap between band j's top and band j-1's bottom: snap to the edge.
                    found = Some((j - 1, hi));
                } else {
                    found = Some((
                        j,
                        solve_band(c, t, lo, hi, baidu_approx(0.0, t).1, max_iterations)?,
                    ));
                }
                break;
            }
        }
        // Below the equator's northing c2 (3.7 mm): latitude 0.
        found.unwrap_or((5, 0.0))
    };
    let c = &LL2MC[band];
    let lon_abs = ((x.abs() - c[0]) / c[1]).max(0.0);
    if lon_abs > 180.0 {
        return Err(PointError::OutsideDomain { operation: OP });
    }
    Ok((signed(lon_abs, x < 0.0), signed(lat_abs, south)))
}

/// Solves `northing(c, τ) = t` for τ in `[lo, hi]` (the polynomial is increasing there), to
/// within [`Y_TOLERANCE_M`] or the rounding of the polynomial's own evaluation, whichever is
/// larger (see [`rounding_m`]), in at most `max_iterations` Newton steps.
fn solve_band(
    c: &[f64; 10],
    t: f64,
    lo: f64,
    hi: f64,
    guess: f64,
    max_iterations: u32,
) -> Result<f64, PointError> {
    let mut tau = guess.clamp(lo, hi);
    for _ in 0..max_iterations {
        let (p, dp) = northing(c, tau);
        let r = p - t;
        if r.abs() <= Y_TOLERANCE_M.max(rounding_m(c, tau)) {
            return Ok(tau);
        }
        if !(dp.is_finite() && dp > 0.0) {
            break;
        }
        let next = (tau - r / dp).clamp(lo, hi);
        if (next - tau).abs() <= 4.0 * f64::EPSILON * tau.abs().max(1.0) {
            // At the limit of f64 resolution: the residual is rounding in the polynomial.
            return Ok(next);
        }
        tau = next;
    }
    Err(PointError::NoConvergence { operation: "bd09mc inverse", iterations: max_iterations })
}

/// The rounding of [`northing`]'s evaluation at |lat| = `t`, metres: one unit in the last place
/// of the sum of its terms' magnitudes. Below 1e-8 m in the bands under 60°; in the ≥ 60° band,
/// whose coefficients reach 1e10 with alternating signs, 7.6e-6 m (60°) to 1.4e-5 m (74°),
/// above [`Y_TOLERANCE_M`]: there the northing itself carries ~1e-6 m of rounding, Newton
/// jitters around the root by hundreds of ulps and a residual of 1e-7 m is never reached.
fn rounding_m(c: &[f64; 10], t: f64) -> f64 {
    let s = (t / c[9]).abs();
    let sum = c[2].abs()
        + s * (c[3].abs()
            + s * (c[4].abs()
                + s * (c[5].abs() + s * (c[6].abs() + s * (c[7].abs() + s * c[8].abs())))));
    sum * f64::EPSILON
}
