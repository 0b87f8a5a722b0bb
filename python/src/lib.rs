//! Python bindings of geounify (being built).
