//! Batch transforms in place: over slices of any coordinate type, over separate x/y(/z)
//! columns, and in parallel.
//!
//! A point that cannot be transformed becomes NaN in every component and is listed in the
//! [`BatchReport`] with its index and reason; the rest of the batch goes on. Nothing panics.

use crate::error::PointError;
use crate::ops::Xyz;
use crate::transformer::Transformer;
use thiserror::Error;

/// A point type the batch API can read and write: x = easting/longitude, y = northing/latitude.
///
/// Implemented for `[f64; 2]`, `[f64; 3]`, `(f64, f64)`, `(f64, f64, f64)` and (with the `geo`
/// feature) `geo_types::Coord<f64>`; implement it for your own point type to transform it in
/// place. 2D types are read with height 0 and their output height is dropped.
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
    pub fn transform_slice<C: Coordinate>(&self, coords: &mut [C]) -> BatchReport {
        let mut report = BatchReport { points: coords.len(), failures: Vec::new() };
        for (index, c) in coords.iter_mut().enumerate() {
            match self.transform(c.xyz()) {
                Ok(p) => c.set_xyz(p),
                Err(error) => {
                    c.set_xyz([f64::NAN; 3]);
                    report.failures.push(PointFailure { index, error });
                }
            }
        }
        report
    }

    /// Transforms separate x, y and (optional) z columns in place; without z, heights are taken
    /// as 0. Failed points become NaN and are reported.
    pub fn transform_columns(
        &self,
        x: &mut [f64],
        y: &mut [f64],
        z: Option<&mut [f64]>,
    ) -> Result<BatchReport, ColumnLengthMismatch> {
        check_columns(x, y, z.as_deref())?;
        let mut report = BatchReport { points: x.len(), failures: Vec::new() };
        let mut z = z;
        for index in 0..x.len() {
            let h = z.as_deref().map_or(0.0, |z| z[index]);
            let out = self.transform([x[index], y[index], h]);
            let p = out.unwrap_or([f64::NAN; 3]);
            if let Err(error) = out {
                report.failures.push(PointFailure { index, error });
            }
            x[index] = p[0];
            y[index] = p[1];
            if let Some(z) = z.as_deref_mut() {
                z[index] = p[2];
            }
        }
        Ok(report)
    }

    /// [`transform_slice`](Self::transform_slice) on all cores (rayon). Results and report are
    /// identical to the one-thread call.
    #[cfg(feature = "parallel")]
    pub fn par_transform_slice<C: Coordinate + Send>(&self, coords: &mut [C]) -> BatchReport {
        use rayon::prelude::*;
        let reports: Vec<BatchReport> = coords
            .par_chunks_mut(PARALLEL_CHUNK)
            .map(|chunk| self.transform_slice(chunk))
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
        let xy = x.par_chunks_mut(PARALLEL_CHUNK).zip(y.par_chunks_mut(PARALLEL_CHUNK));
        let reports: Vec<BatchReport> = match z {
            Some(z) => xy
                .zip(z.par_chunks_mut(PARALLEL_CHUNK))
                .map(|((x, y), z)| self.transform_columns(x, y, Some(z)))
                .collect::<Result<_, _>>()?,
            None => {
                xy.map(|(x, y)| self.transform_columns(x, y, None)).collect::<Result<_, _>>()?
            }
        };
        Ok(merge(reports))
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
