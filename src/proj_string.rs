//! PROJ-string output of CRS definitions. STUB: to be implemented.

use crate::crs::Crs;
use crate::error::ExportError;

impl Crs {
    /// The CRS as a PROJ string, e.g.
    /// `+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs`.
    /// GCJ-02, BD-09 and BD-09MC cannot be expressed and give [`ExportError::NotExpressible`].
    pub fn to_proj_string(&self) -> Result<String, ExportError> {
        Err(ExportError::NotExpressible {
            id: self.id().to_string(),
            format: "PROJ string",
            reason: "not implemented yet",
        })
    }
}
