//! OGC WKT output of CRS definitions. STUB.
