//! Arrow geometry columns through the batch path (being built).
