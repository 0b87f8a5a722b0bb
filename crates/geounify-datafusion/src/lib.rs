//! geounify's coordinate conversions in DataFusion (being built).
