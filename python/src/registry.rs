//! `geounify.Registry`: the built-in catalogue plus CRSs loaded from CRS files.

use crate::errors::{CrsError, CrsFileError};
use geounify::crs_file::Format;
use geounify::{Crs, Heights};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

/// The built-in catalogue plus the CRSs of loaded CRS files (TOML or JSON, the format of
/// `data/crs/README.md`), addressed by id like the built-in ones (case-insensitive).
#[pyclass(module = "geounify")]
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub(crate) inner: geounify::Registry,
}

impl Registry {
    /// Resolves an id to its CRS, as a Python `CrsError` when unknown.
    pub(crate) fn lookup(&self, id: &str) -> PyResult<Crs> {
        self.inner.lookup(id).map_err(|e| CrsError::new_err(e.to_string()))
    }

    /// Compiles the conversion between two ids of this registry.
    pub(crate) fn compile(
        &self,
        source: &str,
        target: &str,
        ellipsoidal_heights: bool,
    ) -> PyResult<(geounify::Transformer, Crs, Crs)> {
        let source = self.lookup(source)?;
        let target = self.lookup(target)?;
        let heights = if ellipsoidal_heights { Heights::Ellipsoidal } else { Heights::Elevation };
        let inner = geounify::Transformer::with_heights(&source, &target, heights)
            .map_err(|e| CrsError::new_err(e.to_string()))?;
        Ok((inner, source, target))
    }
}

#[pymethods]
impl Registry {
    /// A registry holding the built-in catalogue only.
    #[new]
    fn py_new() -> Self {
        Self::default()
    }

    /// Loads a CRS file (TOML, or JSON when the name ends in `.json` or the text starts with
    /// `{`). The file is loaded whole or not at all; errors (`CrsFileError`) name the file,
    /// line and field, never a value (a city's parameters may be confidential).
    fn load_file(&mut self, path: PathBuf) -> PyResult<()> {
        self.inner.load_file(&path).map_err(|e| CrsFileError::new_err(e.to_string()))
    }

    /// Loads CRS-file text; `format` is `"toml"` or `"json"`, `origin` names the text in error
    /// messages. Whole or not at all.
    #[pyo3(signature = (text, format = "toml", origin = "<string>"))]
    fn load_str(&mut self, text: &str, format: &str, origin: &str) -> PyResult<()> {
        let format = match format.to_ascii_lowercase().as_str() {
            "toml" => Format::Toml,
            "json" => Format::Json,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "format must be \"toml\" or \"json\", not {format:?}"
                )))
            }
        };
        self.inner.load_str(text, origin, format).map_err(|e| CrsFileError::new_err(e.to_string()))
    }

    /// The ids of the user-defined CRSs (those of loaded CRS files), in the order loaded.
    fn user_ids(&self) -> Vec<String> {
        self.inner.user_crss().iter().map(|c| c.id().to_string()).collect()
    }

    /// Whether `id` names a CRS (user-defined or built in).
    fn __contains__(&self, id: &str) -> bool {
        self.inner.lookup(id).is_ok()
    }

    /// The EPSG code of the CRS `id`, or `None` when it has none (GCJ-02, BD-09, city grids).
    /// Raises `CrsError` for an unknown id.
    fn epsg(&self, id: &str) -> PyResult<Option<u32>> {
        Ok(self.lookup(id)?.epsg())
    }

    /// The CRS `id`'s name, e.g. `"CGCS2000 / 3-degree Gauss-Kruger CM 117E"`.
    fn name(&self, id: &str) -> PyResult<String> {
        Ok(self.lookup(id)?.name().to_string())
    }

    fn __repr__(&self) -> String {
        format!("Registry(<catalogue> + {} user CRSs)", self.inner.user_crss().len())
    }
}
