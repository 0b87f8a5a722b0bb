//! The exceptions of the Python package. All are `ValueError`s (bad ids, bad files and points
//! outside a CRS's domain are bad values), under one `GeounifyError` base.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;

create_exception!(
    geounify,
    GeounifyError,
    PyValueError,
    "Base class of geounify's errors (a ValueError)."
);
create_exception!(
    geounify,
    CrsError,
    GeounifyError,
    "A transformer could not be built: an unknown CRS id, a datum without a shift to CGCS2000 \
     (Beijing 1954 and Xi'an 1980 as built in), or heights that cannot be converted (2D <-> 3D)."
);
create_exception!(
    geounify,
    CrsFileError,
    GeounifyError,
    "A CRS file could not be loaded (the message names the file, line and field); nothing of it \
     was loaded."
);
create_exception!(
    geounify,
    TransformError,
    GeounifyError,
    "Points could not be transformed. Attributes: `index` (the first failed point's index in the \
     flattened input), `reason` (why it failed), `failures` (a `Failures` report of every failed \
     point)."
);
