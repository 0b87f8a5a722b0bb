//! `geounify estimate`: transformation parameters from control points (stub, being written).

use crate::EXIT_USAGE;
use clap::Args;
use geounify::Registry;

/// Arguments of `geounify estimate`.
#[derive(Debug, Args)]
pub(crate) struct EstimateArgs {}

/// Exit status of `geounify estimate`.
pub(crate) fn run(_args: &EstimateArgs, _registry: &Registry) -> u8 {
    EXIT_USAGE
}
