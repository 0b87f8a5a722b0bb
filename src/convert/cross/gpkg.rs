//! TEMP
use super::super::features::{FeatureReader, FeatureWriter, Schema};
use super::super::{ConvertError, Job};
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    Err(ConvertError::Options { path: job.input.into(), message: "todo".into() })
}
pub(crate) fn writer(job: &Job<'_>, _: &Schema) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    Err(ConvertError::Options { path: job.input.into(), message: "todo".into() })
}
