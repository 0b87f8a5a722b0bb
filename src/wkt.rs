//! OGC WKT output of CRS definitions. STUB: to be implemented.

use crate::crs::Crs;
use crate::error::ExportError;

impl Crs {
    /// The CRS as OGC WKT 1 (the dialect of GDAL's `.prj` and GeoPackage's
    /// `gpkg_spatial_ref_sys.definition`), with the EPSG authority where the CRS has a code.
    /// GCJ-02, BD-09 and BD-09MC cannot be expressed and give [`ExportError::NotExpressible`].
    pub fn to_wkt(&self) -> Result<String, ExportError> {
        Err(ExportError::NotExpressible {
            id: self.id().to_string(),
            format: "WKT",
            reason: "not implemented yet",
        })
    }
}
