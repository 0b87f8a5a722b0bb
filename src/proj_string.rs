//! PROJ-string output of CRS definitions. STUB.
