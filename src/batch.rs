//! Batch transforms in place: over slices of any coordinate type, over separate x/y(/z)
//! columns, and in parallel.
//!
//! A point that cannot be transformed becomes NaN in every component and is listed in the
//! [`BatchReport`] with its index and reason; the rest of the batch goes on. Nothing panics.
//!
//! How a batch runs: the points are copied, 128 at a time, into structure-of-arrays lanes
//! (x, y, z and an ok flag); the input is checked by the same rules as
//! [`Transformer::transform`]; each step of the pipeline runs as one tight loop of its
//! operation's branch-free lane kernel ([`Operation::forward_lane`]), which the compiler
//! vectorises; the outputs are checked finite and written back. A lane that any kernel declined
//! (an error, or a case the kernel leaves to the careful code) is recomputed with
//! [`Transformer::transform`], so every result and every reported error is exactly what the
//! one-point call gives. On x86_64 the chunk code is compiled three times (AVX-512, AVX2 + FMA,
//! baseline) and the best the CPU has is chosen at run time; see [`SimdLevel`] and the
//! `GEOUNIFY_SIMD` environment variable.

use crate::error::PointError;
use crate::ops::{Op, Operation, Xyz};
use crate::transformer::Transformer;
use thiserror::Error;

/// A point type the batch API can read and write: x = easting/longitude, y = northing/latitude.
///
/// Implemented for `[f64; 2]`, `[f64; 3]`, `(f64, f64)`, `(f64, f64, f64)` and (with the `geo`
/// feature) `geo_types::Coord<f64>`; implement it for your own point type to transform it in
/// place. 2D types are read with height 0 and their output height is dropped.
///
/// Between two 2D CRSs a height is an elevation and comes back unchanged (see
/// [`Transformer`]); the plane coordinates never depend on it.
pub trait Coordinate {
    /// The point as `[x, y, z]`.
    fn xyz(&self) -> Xyz;
    /// Overwrites the point with `[x, y, z]` (2D types ignore `z`).
    fn set_xyz(&mut self, p: Xyz);
}

impl Coordinate for [f64; 2] {
    #[inline]
    fn xyz(&self) -> Xyz {
        [self[0], self[1], 0.0]
    }
    #[inline]
    fn set_xyz(&mut self, p: Xyz) {
        *self = [p[0], p[1]];
    }
}

impl Coordinate for [f64; 3] {
    #[inline]
    fn xyz(&self) -> Xyz {
        *self
    }
    #[inline]
    fn set_xyz(&mut self, p: Xyz) {
        *self = p;
    }
}

impl Coordinate for (f64, f64) {
    #[inline]
    fn xyz(&self) -> Xyz {
        [self.0, self.1, 0.0]
    }
    #[inline]
    fn set_xyz(&mut self, p: Xyz) {
        *self = (p[0], p[1]);
    }
}

impl Coordinate for (f64, f64, f64) {
    #[inline]
    fn xyz(&self) -> Xyz {
        [self.0, self.1, self.2]
    }
    #[inline]
    fn set_xyz(&mut self, p: Xyz) {
        *self = (p[0], p[1], p[2]);
    }
}

#[cfg(feature = "geo")]
impl Coordinate for geo_types::Coord<f64> {
    #[inline]
    fn xyz(&self) -> Xyz {
        [self.x, self.y, 0.0]
    }
    #[inline]
    fn set_xyz(&mut self, p: Xyz) {
        self.x = p[0];
        self.y = p[1];
    }
}

/// One point of a batch that could not be transformed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointFailure {
    /// Its index in the batch (for geometries: the vertex index in traversal order).
    pub index: usize,
    /// Why it failed.
    pub error: PointError,
}

/// What happened to a batch: how many points were processed and which failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReport {
    /// Number of points processed.
    pub points: usize,
    /// The points that failed (now NaN), in index order.
    pub failures: Vec<PointFailure>,
}

impl BatchReport {
    /// Whether every point was transformed.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
    /// Number of points that failed.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }
}

/// The x, y and z columns given to [`Transformer::transform_columns`] differ in length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("coordinate columns differ in length: x has {x}, y has {y}, z has {z:?}")]
pub struct ColumnLengthMismatch {
    /// Length of the x column.
    pub x: usize,
    /// Length of the y column.
    pub y: usize,
    /// Length of the z column, if given.
    pub z: Option<usize>,
}

/// Points per chunk handed to one rayon task.
#[cfg(feature = "parallel")]
const PARALLEL_CHUNK: usize = 8 * 1024;

impl Transformer {
    /// Transforms every point of `coords` in place. Failed points become NaN and are reported.
    ///
    /// Results and report are exactly, bit for bit, those of [`Transformer::transform`] point by
    /// point (see the [module docs](self) for how the batch runs).
    pub fn transform_slice<C: Coordinate>(&self, coords: &mut [C]) -> BatchReport {
        self.transform_slice_with(SimdLevel::current(), coords)
    }

    /// [`transform_slice`](Self::transform_slice) on the code path compiled for `level` (or, if
    /// this CPU lacks it, the best path below it it has). The result is the same on every path;
    /// this exists so that tests can show it.
    #[doc(hidden)]
    pub fn transform_slice_with<C: Coordinate>(
        &self,
        level: SimdLevel,
        coords: &mut [C],
    ) -> BatchReport {
        self.run_chunks(level.supported(), &mut SlicePoints(coords))
    }

    /// Transforms separate x, y and (optional) z columns in place; without z, heights are taken
    /// as 0. Failed points become NaN and are reported.
    ///
    /// Results and report are exactly those of [`Transformer::transform`] point by point.
    pub fn transform_columns(
        &self,
        x: &mut [f64],
        y: &mut [f64],
        z: Option<&mut [f64]>,
    ) -> Result<BatchReport, ColumnLengthMismatch> {
        self.transform_columns_with(SimdLevel::current(), x, y, z)
    }

    /// [`transform_columns`](Self::transform_columns) on the code path compiled for `level` (or
    /// the best one below it that this CPU has); for tests, as
    /// [`transform_slice_with`](Self::transform_slice_with).
    #[doc(hidden)]
    pub fn transform_columns_with(
        &self,
        level: SimdLevel,
        x: &mut [f64],
        y: &mut [f64],
        z: Option<&mut [f64]>,
    ) -> Result<BatchReport, ColumnLengthMismatch> {
        check_columns(x, y, z.as_deref())?;
        let level = level.supported();
        Ok(match z {
            Some(z) => self.run_chunks(level, &mut Columns3 { x, y, z }),
            None => self.run_chunks(level, &mut Columns2 { x, y }),
        })
    }

    /// [`transform_slice`](Self::transform_slice) on all cores (rayon). Results and report are
    /// identical to the one-thread call.
    #[cfg(feature = "parallel")]
    pub fn par_transform_slice<C: Coordinate + Send>(&self, coords: &mut [C]) -> BatchReport {
        use rayon::prelude::*;
        let level = SimdLevel::current();
        let reports: Vec<BatchReport> = coords
            .par_chunks_mut(PARALLEL_CHUNK)
            .map(|chunk| self.run_chunks(level, &mut SlicePoints(chunk)))
            .collect();
        merge(reports)
    }

    /// [`transform_columns`](Self::transform_columns) on all cores (rayon). Results and report
    /// are identical to the one-thread call.
    #[cfg(feature = "parallel")]
    pub fn par_transform_columns(
        &self,
        x: &mut [f64],
        y: &mut [f64],
        z: Option<&mut [f64]>,
    ) -> Result<BatchReport, ColumnLengthMismatch> {
        use rayon::prelude::*;
        check_columns(x, y, z.as_deref())?;
        let level = SimdLevel::current();
        let xy = x.par_chunks_mut(PARALLEL_CHUNK).zip(y.par_chunks_mut(PARALLEL_CHUNK));
        let reports: Vec<BatchReport> = match z {
            Some(z) => xy
                .zip(z.par_chunks_mut(PARALLEL_CHUNK))
                .map(|((x, y), z)| self.run_chunks(level, &mut Columns3 { x, y, z }))
                .collect(),
            None => xy.map(|(x, y)| self.run_chunks(level, &mut Columns2 { x, y })).collect(),
        };
        Ok(merge(reports))
    }

    /// The pipeline: chunks of [`LANES`] points copied into [`Lanes`], computed on the `level`
    /// path, written back; every lane that came out not-ok is recomputed with
    /// [`Transformer::transform`], which gives its real result or its precise error.
    fn run_chunks<P: Points>(&self, level: SimdLevel, points: &mut P) -> BatchReport {
        let n = points.len();
        let mut report = BatchReport { points: n, failures: Vec::new() };
        let mut lanes = Lanes::new();
        let mut start = 0;
        while start < n {
            let m = (n - start).min(LANES);
            for i in 0..m {
                let p = points.get(start + i);
                lanes.x[i] = p[0];
                lanes.y[i] = p[1];
                lanes.z[i] = p[2];
            }
            compute(self, level, &mut lanes, m);
            for i in 0..m {
                let index = start + i;
                if lanes.ok[i] {
                    points.set(index, [lanes.x[i], lanes.y[i], lanes.z[i]]);
                } else {
                    // The input is still in place: the chunk is written back only here.
                    match self.transform(points.get(index)) {
                        Ok(p) => points.set(index, p),
                        Err(error) => {
                            points.set(index, [f64::NAN; 3]);
                            report.failures.push(PointFailure { index, error });
                        }
                    }
                }
            }
            start += m;
        }
        report
    }
}

/// Points per chunk of the batch pipeline: 128 points (3 KiB of coordinates) stay in L1 through
/// every step and amortise the per-step dispatch. 64, 128 and 256 measured within noise of each
/// other (1M points, EPSG:4490 -> 4547 and a 7-parameter city grid); 128 is the middle.
pub(crate) const LANES: usize = 128;

/// One chunk in structure-of-arrays form: coordinates, whether each lane is still on the
/// vector path, and the input heights while a height-copying pipeline runs at height 0.
struct Lanes {
    x: [f64; LANES],
    y: [f64; LANES],
    z: [f64; LANES],
    ok: [bool; LANES],
    kept_z: [f64; LANES],
}

impl Lanes {
    fn new() -> Self {
        Self {
            x: [0.0; LANES],
            y: [0.0; LANES],
            z: [0.0; LANES],
            ok: [false; LANES],
            kept_z: [0.0; LANES],
        }
    }
}

/// Indexed read and write access to the points of a batch (a slice or columns).
trait Points {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> Xyz;
    fn set(&mut self, i: usize, p: Xyz);
}

struct SlicePoints<'a, C>(&'a mut [C]);

impl<C: Coordinate> Points for SlicePoints<'_, C> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.0.len()
    }
    #[inline(always)]
    fn get(&self, i: usize) -> Xyz {
        self.0[i].xyz()
    }
    #[inline(always)]
    fn set(&mut self, i: usize, p: Xyz) {
        self.0[i].set_xyz(p);
    }
}

/// x and y columns (lengths checked equal), height 0.
struct Columns2<'a> {
    x: &'a mut [f64],
    y: &'a mut [f64],
}

impl Points for Columns2<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.x.len()
    }
    #[inline(always)]
    fn get(&self, i: usize) -> Xyz {
        [self.x[i], self.y[i], 0.0]
    }
    #[inline(always)]
    fn set(&mut self, i: usize, p: Xyz) {
        self.x[i] = p[0];
        self.y[i] = p[1];
    }
}

/// x, y and z columns (lengths checked equal).
struct Columns3<'a> {
    x: &'a mut [f64],
    y: &'a mut [f64],
    z: &'a mut [f64],
}

impl Points for Columns3<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.x.len()
    }
    #[inline(always)]
    fn get(&self, i: usize) -> Xyz {
        [self.x[i], self.y[i], self.z[i]]
    }
    #[inline(always)]
    fn set(&mut self, i: usize, p: Xyz) {
        self.x[i] = p[0];
        self.y[i] = p[1];
        self.z[i] = p[2];
    }
}

/// Which instruction-set path the batch pipeline runs on.
///
/// Chosen once per process: the best the CPU has (checked at run time), unless the environment
/// variable `GEOUNIFY_SIMD` names a lower one (`baseline`, `avx2` or `avx512`; a level the CPU
/// lacks falls back to the best one below it, an unknown value is ignored). Every path gives
/// the same results bit for bit: the kernels use no fused multiply-add and no library calls
/// whose results could differ, so the override exists for tests and for measuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Plain code for the compilation target (SSE2 on x86_64; the only path elsewhere).
    Baseline,
    /// x86_64 AVX2 + FMA (the kernels do not fuse; FMA only lets LLVM pick newer encodings).
    Avx2,
    /// x86_64 AVX-512 F/DQ/VL, with AVX2 + FMA.
    Avx512,
}

impl SimdLevel {
    /// Every level, lowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The best level this CPU supports.
    pub fn detected() -> SimdLevel {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma");
            let avx512 = avx2
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl");
            if avx512 {
                return SimdLevel::Avx512;
            }
            if avx2 {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Baseline
    }

    /// Whether this CPU can run the level.
    pub fn is_supported(self) -> bool {
        self <= SimdLevel::detected()
    }

    /// The level the batch calls use: [`detected`](Self::detected), lowered by `GEOUNIFY_SIMD`
    /// if set; read once and cached.
    pub fn current() -> SimdLevel {
        static LEVEL: std::sync::OnceLock<SimdLevel> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            let wanted = match std::env::var("GEOUNIFY_SIMD").as_deref() {
                Ok("baseline") => SimdLevel::Baseline,
                Ok("avx2") => SimdLevel::Avx2,
                _ => SimdLevel::Avx512,
            };
            wanted.supported()
        })
    }

    /// This level, or the best one below it that the CPU supports.
    fn supported(self) -> SimdLevel {
        self.min(SimdLevel::detected())
    }
}

/// Runs the first `n` lanes of the chunk on `level`'s path; `level` must be supported (see
/// [`SimdLevel::supported`]).
#[inline]
fn compute(t: &Transformer, level: SimdLevel, lanes: &mut Lanes, n: usize) {
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: `level` came from `SimdLevel::supported`, which caps it at what
        // `is_x86_feature_detected!` found on this CPU, so the features are present.
        SimdLevel::Avx512 => unsafe { compute_avx512(t, lanes, n) },
        // SAFETY: as above.
        SimdLevel::Avx2 => unsafe { compute_avx2(t, lanes, n) },
        SimdLevel::Baseline => compute_chunk(t, lanes, n),
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = level;
        compute_chunk(t, lanes, n)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn compute_avx512(t: &Transformer, lanes: &mut Lanes, n: usize) {
    compute_chunk(t, lanes, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn compute_avx2(t: &Transformer, lanes: &mut Lanes, n: usize) {
    compute_chunk(t, lanes, n)
}

/// The chunk: input check (the same rules as [`Transformer::transform`]), heights set aside
/// if the transformer copies them, each step as one tight loop, heights put back, final finite
/// check. A lane stays ok only if every step's lane kernel said so.
#[inline(always)]
fn compute_chunk(t: &Transformer, l: &mut Lanes, n: usize) {
    let n = n.min(LANES);
    for i in 0..n {
        l.ok[i] = t.input_ok([l.x[i], l.y[i], l.z[i]]);
    }
    let copies_height = t.copies_height();
    if copies_height {
        for i in 0..n {
            l.kept_z[i] = l.z[i];
            l.z[i] = 0.0;
        }
    }
    for step in t.steps() {
        let inverse = step.inverse;
        match &step.op {
            Op::DegreesToRadians(o) => run_step(o, inverse, l, n),
            Op::GaussKruger(o) => run_step(o, inverse, l, n),
            Op::Geocentric(o) => run_step(o, inverse, l, n),
            Op::Helmert(o) => run_step(o, inverse, l, n),
            Op::Molodensky(o) => run_step(o, inverse, l, n),
            Op::Gcj02(o) => run_step(o, inverse, l, n),
            Op::Bd09(o) => run_step(o, inverse, l, n),
            Op::Bd09Mc(o) => run_step(o, inverse, l, n),
            Op::WebMercator(o) => run_step(o, inverse, l, n),
            Op::PlanarHelmert(o) => run_step(o, inverse, l, n),
            Op::Affine(o) => run_step(o, inverse, l, n),
            Op::Polynomial2(o) => run_step(o, inverse, l, n),
        }
    }
    if copies_height {
        for i in 0..n {
            l.z[i] = l.kept_z[i];
        }
    }
    for i in 0..n {
        l.ok[i] &= l.x[i].is_finite() & l.y[i].is_finite() & l.z[i].is_finite();
    }
}

/// One step over the chunk: the operation's lane kernel in a loop with no dispatch inside.
#[inline(always)]
fn run_step<O: Operation>(op: &O, inverse: bool, l: &mut Lanes, n: usize) {
    let n = n.min(LANES);
    if inverse {
        for i in 0..n {
            let (q, ok) = op.inverse_lane([l.x[i], l.y[i], l.z[i]]);
            l.x[i] = q[0];
            l.y[i] = q[1];
            l.z[i] = q[2];
            l.ok[i] &= ok;
        }
    } else {
        for i in 0..n {
            let (q, ok) = op.forward_lane([l.x[i], l.y[i], l.z[i]]);
            l.x[i] = q[0];
            l.y[i] = q[1];
            l.z[i] = q[2];
            l.ok[i] &= ok;
        }
    }
}

fn check_columns(x: &[f64], y: &[f64], z: Option<&[f64]>) -> Result<(), ColumnLengthMismatch> {
    let z_len = z.map(<[f64]>::len);
    if x.len() != y.len() || z_len.is_some_and(|n| n != x.len()) {
        return Err(ColumnLengthMismatch { x: x.len(), y: y.len(), z: z_len });
    }
    Ok(())
}

#[cfg(feature = "parallel")]
fn merge(reports: Vec<BatchReport>) -> BatchReport {
    let mut total = BatchReport::default();
    for chunk in reports {
        let offset = total.points;
        total.points += chunk.points;
        total.failures.extend(
            chunk.failures.into_iter().map(|f| PointFailure { index: f.index + offset, ..f }),
        );
    }
    total
}
