//! `geounify._geounify.Transformer`: a compiled conversion between two CRSs, and `Failures`, the
//! report of the points a batch could not transform.

use crate::arrow;
use crate::errors::TransformError;
use crate::registry::Registry;
use arrow_array::{Array, ArrayRef};
use arrow_schema::Field;
use geounify::arrow::RowFailure;
use geounify::{BatchReport, Crs, PointFailure};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadwriteArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3_arrow::{PyArray, PyChunkedArray};
use rayon::prelude::*;
use std::sync::Arc;

/// From this many points on, `parallel=None` runs the batch on all cores (rayon's global pool;
/// `RAYON_NUM_THREADS` limits it). Below it the work is too small to be worth the threads'
/// start-up; the results are the same bits either way.
pub const PARALLEL_THRESHOLD: usize = 65_536;

/// Points per chunk of the copying transform: copied and transformed while in cache (two or
/// three columns of 8,192 doubles are 128–192 KiB, within a core's L2), and the rayon task size
/// of the core's parallel batches.
const COPY_CHUNK: usize = 8 * 1024;

/// A compiled conversion between two CRSs (the raw extension class; `geounify.Transformer`
/// wraps it and converts its inputs). Immutable and shareable between threads.
#[pyclass(module = "geounify._geounify", name = "Transformer", frozen)]
#[derive(Debug, Clone)]
pub struct Transformer {
    pub(crate) inner: geounify::Transformer,
    pub(crate) source: Crs,
    pub(crate) target: Crs,
}

/// The three columns of a batch, read-only.
type Columns<'a> = (&'a [f64], &'a [f64], Option<&'a [f64]>);

/// The slice of a numpy array, or a `ValueError` naming the argument.
fn slice<'a>(array: &'a PyReadonlyArray1<'_, f64>, name: &str) -> PyResult<&'a [f64]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

/// The mutable slice of a numpy array, or a `ValueError` naming the argument.
fn slice_mut<'a>(array: &'a mut PyReadwriteArray1<'_, f64>, name: &str) -> PyResult<&'a mut [f64]> {
    array.as_slice_mut().map_err(|_| {
        PyValueError::new_err(format!("{name} must be a writeable C-contiguous float64 array"))
    })
}

/// The same length for every column, or a `ValueError` giving each length.
fn check_lengths(x: usize, y: usize, z: Option<usize>) -> PyResult<()> {
    if x == y && z.is_none_or(|z| z == x) {
        return Ok(());
    }
    let z = z.map(|z| format!(", z has {z}")).unwrap_or_default();
    Err(PyValueError::new_err(format!(
        "coordinate arrays differ in length: x has {x}, y has {y}{z}"
    )))
}

impl Transformer {
    /// Transforms the columns in place on one thread or all cores. The lengths are checked by
    /// the caller, so the core's length error cannot happen; it is still mapped, not unwrapped.
    fn run(
        &self,
        x: &mut [f64],
        y: &mut [f64],
        z: Option<&mut [f64]>,
        parallel: Option<bool>,
    ) -> PyResult<BatchReport> {
        let parallel = parallel.unwrap_or(x.len() >= PARALLEL_THRESHOLD);
        let report = if parallel {
            self.inner.par_transform_columns(x, y, z)
        } else {
            self.inner.transform_columns(x, y, z)
        };
        report.map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Transforms copies of `columns` into `outputs` (of the same lengths): chunk by chunk,
    /// each chunk copied and then transformed while it is still in cache (one pass over memory
    /// instead of a copy pass and a transform pass), the chunks on all cores when `parallel`
    /// says so (as [`Transformer::run`]). Failure indices are those of the whole columns.
    fn copy_and_run(
        &self,
        columns: Columns<'_>,
        outputs: (&mut [f64], &mut [f64], Option<&mut [f64]>),
        parallel: Option<bool>,
    ) -> BatchReport {
        let (x, y, z) = columns;
        let (xs, ys, zs) = outputs;
        let n = x.len();
        let parallel = parallel.unwrap_or(n >= PARALLEL_THRESHOLD);
        let one = |start: usize, xo: &mut [f64], yo: &mut [f64], zo: Option<&mut [f64]>| {
            let end = start + xo.len();
            xo.copy_from_slice(&x[start..end]);
            yo.copy_from_slice(&y[start..end]);
            let zo = match (zo, z) {
                (Some(zo), Some(z)) => {
                    zo.copy_from_slice(&z[start..end]);
                    Some(zo)
                }
                _ => None,
            };
            // The chunks of one set of columns have one length: the length error cannot occur.
            let mut report = self.inner.transform_columns(xo, yo, zo).unwrap_or_default();
            for failure in &mut report.failures {
                failure.index += start;
            }
            report
        };
        let chunk = COPY_CHUNK;
        let reports: Vec<BatchReport> = {
            let zc = zs;
            let xy = xs.chunks_mut(chunk).zip(ys.chunks_mut(chunk)).enumerate();
            match (parallel, zc) {
                (false, None) => xy.map(|(i, (xo, yo))| one(i * chunk, xo, yo, None)).collect(),
                (false, Some(zc)) => xy
                    .zip(zc.chunks_mut(chunk))
                    .map(|((i, (xo, yo)), zo)| one(i * chunk, xo, yo, Some(zo)))
                    .collect(),
                (true, None) => xs
                    .par_chunks_mut(chunk)
                    .zip(ys.par_chunks_mut(chunk))
                    .enumerate()
                    .map(|(i, (xo, yo))| one(i * chunk, xo, yo, None))
                    .collect(),
                (true, Some(zc)) => xs
                    .par_chunks_mut(chunk)
                    .zip(ys.par_chunks_mut(chunk))
                    .zip(zc.par_chunks_mut(chunk))
                    .enumerate()
                    .map(|(i, ((xo, yo), zo))| one(i * chunk, xo, yo, Some(zo)))
                    .collect(),
            }
        };
        let mut report = BatchReport { points: n, failures: Vec::new() };
        for part in reports {
            report.failures.extend(part.failures);
        }
        report
    }

    /// Converts Arrow chunks with the GIL released: the converted chunks, the failed rows and
    /// the output field. A type the encoding does not take is a `TypeError`.
    #[allow(clippy::type_complexity)]
    fn arrow_chunks(
        &self,
        py: Python<'_>,
        chunks: &[ArrayRef],
        field: &Field,
        encoding: Option<&str>,
    ) -> PyResult<(Vec<ArrayRef>, Vec<RowFailure>, Field)> {
        let encoding = arrow::encoding(field, encoding)?;
        let out_field = arrow::target_field(field, &self.source, &self.target)?;
        let (arrays, failures) = py
            .detach(|| arrow::transform_chunks(&self.inner, chunks, encoding))
            .map_err(|e| PyTypeError::new_err(e.to_string()))?;
        Ok((arrays, failures, out_field))
    }

    /// A `TransformError` for one failed point, with its `index` and `reason` attributes.
    fn point_error(py: Python<'_>, error: geounify::PointError) -> PyErr {
        let report = BatchReport { points: 1, failures: vec![PointFailure { index: 0, error }] };
        Failures::of_points(report).error(py)
    }
}

#[pymethods]
impl Transformer {
    /// Compiles the conversion from the CRS `source` to the CRS `target` (ids such as
    /// `"EPSG:4547"`, `"GCJ02"`, or a loaded CRS file's), looked up in `registry` (the built-in
    /// catalogue when `None`). Heights of 2D CRSs are elevations copied unchanged, unless
    /// `ellipsoidal_heights` says they are ellipsoidal heights to convert with the point.
    /// Raises `CrsError` when an id is unknown or the pair cannot be converted.
    #[new]
    #[pyo3(signature = (source, target, registry = None, ellipsoidal_heights = false))]
    fn py_new(
        source: &str,
        target: &str,
        registry: Option<PyRef<'_, Registry>>,
        ellipsoidal_heights: bool,
    ) -> PyResult<Self> {
        let (inner, source, target) = match registry {
            Some(registry) => registry.compile(source, target, ellipsoidal_heights)?,
            None => Registry::default().compile(source, target, ellipsoidal_heights)?,
        };
        Ok(Self { inner, source, target })
    }

    /// Transforms copies of the 1-D float64 columns `x`, `y` (and `z`), with the GIL released,
    /// and returns `(x, y, z or None, failures)`; the inputs are not modified. Failed points are
    /// NaN in the outputs and listed in `failures`. `parallel`: all cores (`True`), one thread
    /// (`False`), or all cores from 65,536 points on (`None`); the results are the same.
    #[pyo3(signature = (x, y, z = None, parallel = None))]
    #[allow(clippy::type_complexity)]
    fn transform_columns<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
        y: PyReadonlyArray1<'py, f64>,
        z: Option<PyReadonlyArray1<'py, f64>>,
        parallel: Option<bool>,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
        Option<Bound<'py, PyArray1<f64>>>,
        Failures,
    )> {
        let columns: Columns<'_> =
            (slice(&x, "x")?, slice(&y, "y")?, z.as_ref().map(|z| slice(z, "z")).transpose()?);
        check_lengths(columns.0.len(), columns.1.len(), columns.2.map(<[f64]>::len))?;
        // The outputs are numpy's own allocations (numpy asks the kernel for huge pages on
        // large arrays: far fewer page faults than a Rust Vec of the same size), zeroed and
        // filled before anyone else sees them.
        let n = columns.0.len();
        let xo = PyArray1::<f64>::zeros(py, n, false);
        let yo = PyArray1::<f64>::zeros(py, n, false);
        let zo = columns.2.map(|_| PyArray1::<f64>::zeros(py, n, false));
        let report = {
            let borrow = |a: &Bound<'py, PyArray1<f64>>| {
                a.try_readwrite().map_err(|e| PyValueError::new_err(e.to_string()))
            };
            let (mut xw, mut yw) = (borrow(&xo)?, borrow(&yo)?);
            let mut zw = zo.as_ref().map(borrow).transpose()?;
            let outputs = (
                slice_mut(&mut xw, "x")?,
                slice_mut(&mut yw, "y")?,
                zw.as_mut().map(|z| slice_mut(z, "z")).transpose()?,
            );
            py.detach(|| self.copy_and_run(columns, outputs, parallel))
        };
        Ok((xo, yo, zo, Failures::of_points(report)))
    }

    /// Transforms the 1-D, writeable, C-contiguous float64 columns in place, with the GIL
    /// released; failed points become NaN. Returns the `Failures`.
    #[pyo3(signature = (x, y, z = None, parallel = None))]
    fn transform_columns_inplace<'py>(
        &self,
        py: Python<'py>,
        mut x: PyReadwriteArray1<'py, f64>,
        mut y: PyReadwriteArray1<'py, f64>,
        mut z: Option<PyReadwriteArray1<'py, f64>>,
        parallel: Option<bool>,
    ) -> PyResult<Failures> {
        let xs = slice_mut(&mut x, "x")?;
        let ys = slice_mut(&mut y, "y")?;
        let zs = z.as_mut().map(|z| slice_mut(z, "z")).transpose()?;
        check_lengths(xs.len(), ys.len(), zs.as_ref().map(|z| z.len()))?;
        let report = py.detach(|| self.run(xs, ys, zs, parallel))?;
        Ok(Failures::of_points(report))
    }

    /// Transforms one point `(x, y)`; the height is taken as 0. Raises `TransformError`.
    fn transform_xy(&self, py: Python<'_>, x: f64, y: f64) -> PyResult<(f64, f64)> {
        self.inner.transform_xy(x, y).map_err(|e| Self::point_error(py, e))
    }

    /// Transforms one point `(x, y, z)`. Raises `TransformError`.
    fn transform_xyz(&self, py: Python<'_>, x: f64, y: f64, z: f64) -> PyResult<(f64, f64, f64)> {
        let [x, y, z] = self.inner.transform([x, y, z]).map_err(|e| Self::point_error(py, e))?;
        Ok((x, y, z))
    }

    /// Transforms an Arrow geometry array (any object exporting `__arrow_c_array__`) through
    /// the core crate's Arrow kernel with the GIL released, and returns `(array, failures)`:
    /// the converted array (same type and length, offsets and nulls kept, failed rows NULL)
    /// with its field (GeoArrow `crs` metadata rewritten for the target), and the failed rows.
    /// `encoding` names the geometry encoding when the field does not (see `geounify.arrow`).
    #[pyo3(signature = (array, encoding = None))]
    fn transform_arrow_array(
        &self,
        py: Python<'_>,
        array: PyArray,
        encoding: Option<&str>,
    ) -> PyResult<(PyArray, Failures)> {
        let (array, field) = array.into_inner();
        let chunks = [array];
        let (mut arrays, failures, field) = self.arrow_chunks(py, &chunks, &field, encoding)?;
        let out =
            arrays.pop().ok_or_else(|| PyValueError::new_err("the kernel returned no array"))?;
        let out = PyArray::try_new(out, Arc::new(field))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((out, Failures::of_rows(chunks[0].len(), failures)))
    }

    /// As `transform_arrow_array`, for a chunked array (any object exporting
    /// `__arrow_c_stream__`, e.g. a `pyarrow.ChunkedArray`); the chunks are converted in
    /// parallel and failed rows are numbered across chunks.
    #[pyo3(signature = (array, encoding = None))]
    fn transform_arrow_chunked(
        &self,
        py: Python<'_>,
        array: PyChunkedArray,
        encoding: Option<&str>,
    ) -> PyResult<(PyChunkedArray, Failures)> {
        let (chunks, field) = array.into_inner();
        let rows = chunks.iter().map(|c| c.len()).sum();
        let (arrays, failures, field) = self.arrow_chunks(py, &chunks, &field, encoding)?;
        let out = PyChunkedArray::try_new(arrays, Arc::new(field))?;
        Ok((out, Failures::of_rows(rows, failures)))
    }

    /// The conversion in the other direction.
    fn inverse(&self) -> Self {
        Self {
            inner: self.inner.inverse(),
            source: self.target.clone(),
            target: self.source.clone(),
        }
    }

    /// The source CRS's id.
    #[getter]
    fn source(&self) -> &str {
        self.source.id()
    }

    /// The target CRS's id.
    #[getter]
    fn target(&self) -> &str {
        self.target.id()
    }

    /// The source CRS's EPSG code, or `None` (GCJ-02, BD-09, city grids).
    #[getter]
    fn source_epsg(&self) -> Option<u32> {
        self.source.epsg()
    }

    /// The target CRS's EPSG code, or `None` (GCJ-02, BD-09, city grids).
    #[getter]
    fn target_epsg(&self) -> Option<u32> {
        self.target.epsg()
    }

    /// The source CRS's name.
    #[getter]
    fn source_name(&self) -> &str {
        self.source.name()
    }

    /// The target CRS's name.
    #[getter]
    fn target_name(&self) -> &str {
        self.target.name()
    }

    /// Whether z values are elevations copied unchanged (both CRSs 2D) rather than ellipsoidal
    /// heights converted with the point.
    #[getter]
    fn copies_height(&self) -> bool {
        self.inner.copies_height()
    }

    fn __repr__(&self) -> String {
        format!("Transformer({:?} -> {:?})", self.source.id(), self.target.id())
    }
}

/// The points of a batch that could not be transformed (they are NaN in the result): their
/// indices in the flattened input, in increasing order, and the reasons. Empty (and false) when
/// every point was transformed.
///
/// For Arrow arrays the entries are rows (the geometries that became NULL), and each reason
/// names the failed vertex or the WKB fault.
#[pyclass(module = "geounify", frozen)]
#[derive(Debug, Clone)]
pub struct Failures {
    /// Number of points (rows for Arrow) in the batch.
    points: usize,
    entries: Entries,
}

/// What failed: points of coordinate arrays, or rows of an Arrow array.
#[derive(Debug, Clone)]
enum Entries {
    Points(Vec<PointFailure>),
    Rows(Vec<RowFailure>),
}

impl Failures {
    /// The report of a batch of coordinate arrays.
    pub(crate) fn of_points(report: BatchReport) -> Self {
        Self { points: report.points, entries: Entries::Points(report.failures) }
    }

    /// The report of an Arrow array of `rows` rows.
    pub(crate) fn of_rows(rows: usize, failures: Vec<RowFailure>) -> Self {
        Self { points: rows, entries: Entries::Rows(failures) }
    }

    fn len(&self) -> usize {
        match &self.entries {
            Entries::Points(f) => f.len(),
            Entries::Rows(f) => f.len(),
        }
    }

    /// The `i`th entry's index and reason.
    fn entry(&self, i: usize) -> Option<(usize, String)> {
        match &self.entries {
            Entries::Points(f) => f.get(i).map(|f| (f.index, f.error.to_string())),
            Entries::Rows(f) => f.get(i).map(|f| (f.row, f.reason.to_string())),
        }
    }

    fn indices_iter(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        match &self.entries {
            Entries::Points(f) => Box::new(f.iter().map(|f| f.index)),
            Entries::Rows(f) => Box::new(f.iter().map(|f| f.row)),
        }
    }

    /// "point" or "row".
    fn unit(&self) -> &'static str {
        match self.entries {
            Entries::Points(_) => "point",
            Entries::Rows(_) => "row",
        }
    }
}

impl Failures {
    /// The `TransformError` for these failures (at least one): the message names the first
    /// failed point (or row) and how many others failed; the exception carries `index`,
    /// `reason` and `failures`.
    pub(crate) fn error(&self, py: Python<'_>) -> PyErr {
        let Some((index, reason)) = self.entry(0) else {
            return TransformError::new_err("nothing failed");
        };
        let unit = self.unit();
        let more = match self.len() - 1 {
            0 => String::new(),
            1 => format!(" (and 1 other {unit})"),
            n => format!(" (and {n} other {unit}s)"),
        };
        let err = TransformError::new_err(format!("{unit} {index} failed: {reason}{more}"));
        let value = err.value(py);
        let attributes = value
            .setattr("index", index)
            .and_then(|()| value.setattr("reason", reason))
            .and_then(|()| value.setattr("failures", self.clone()));
        match attributes {
            Ok(()) => err,
            Err(e) => e,
        }
    }
}

#[pymethods]
impl Failures {
    /// Number of failed points (rows).
    fn __len__(&self) -> usize {
        self.len()
    }

    /// Whether anything failed.
    fn __bool__(&self) -> bool {
        self.len() > 0
    }

    /// Number of points (rows for Arrow) in the batch.
    #[getter]
    fn points(&self) -> usize {
        self.points
    }

    /// The failed points' (rows') indices in the flattened input, increasing, as an int64
    /// array.
    #[getter]
    fn indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_iter(py, self.indices_iter().map(|i| i64::try_from(i).unwrap_or(i64::MAX)))
    }

    /// Why each point (row) failed, in the order of `indices`.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, (0..self.len()).filter_map(|i| self.entry(i)).map(|(_, reason)| reason))
    }

    /// `(index, reason)` pairs, in index order.
    fn items(&self) -> Vec<(usize, String)> {
        (0..self.len()).filter_map(|i| self.entry(i)).collect()
    }

    /// Raises the `TransformError` for these failures if there are any.
    fn raise_if_any(&self, py: Python<'_>) -> PyResult<()> {
        if self.len() == 0 {
            Ok(())
        } else {
            Err(self.error(py))
        }
    }

    fn __repr__(&self) -> String {
        let shown: Vec<String> = (0..self.len().min(3))
            .filter_map(|i| self.entry(i))
            .map(|(index, reason)| format!("{index}: {reason}"))
            .collect();
        let more = if self.len() > 3 { ", ..." } else { "" };
        let unit = self.unit();
        format!(
            "Failures({} of {} {unit}s failed{}{}{more})",
            self.len(),
            self.points,
            if shown.is_empty() { "" } else { ": " },
            shown.join("; "),
        )
    }
}
