//! A registry of CRSs: the built-in catalogue plus the user's own (a city's grids and datums),
//! addressed by id like the built-in ones.
//!
//! User CRSs come from CRS files ([`Registry::load_file`], feature `crs-file`) or are added in
//! code ([`Registry::add_crs`]). Ids are case-insensitive and may not clash with the catalogue
//! (ids and aliases) or with each other.

use crate::catalogue;
use crate::crs::Crs;
use crate::datum::Datum;
use crate::ellipsoid::Ellipsoid;
pub use crate::error::RegistryError;
use crate::error::{BuildError, CrsError};
use crate::transformer::Transformer;
use std::collections::HashMap;

/// The key an id is indexed under: trimmed, ASCII letters lower-cased (ids compare with
/// `eq_ignore_ascii_case`).
fn key(id: &str) -> String {
    id.trim().to_ascii_lowercase()
}

/// The built-in catalogue plus user-defined ellipsoids, datums and CRSs.
///
/// ```
/// use geounify::{Crs, CrsKind, Datum, Registry};
/// let mut registry = Registry::new();
/// let geog = Crs::new("city:geog", "City geographic", Datum::cgcs2000(), CrsKind::Geographic,
///                     None, None).unwrap();
/// registry.add_crs(geog).unwrap();
/// let t = registry.transformer("city:geog", "EPSG:4548").unwrap();
/// assert!(t.transform_xy(117.0, 40.0).is_ok());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Registry {
    ellipsoids: Vec<(String, Ellipsoid)>,
    datums: Vec<Datum>,
    crss: Vec<Crs>,
    /// `crss` by [`key`]: lookups and clash checks in constant time, so adding `n` CRSs costs
    /// `O(n)`, not `O(n²)`.
    crs_index: HashMap<String, usize>,
    /// `datums` by [`key`].
    datum_index: HashMap<String, usize>,
}

/// The built-in datums by id (the ids a CRS file may name).
const BUILTIN_DATUMS: [&str; 4] = ["CGCS2000", "WGS84", "BJ54", "XIAN80"];

/// The built-in ellipsoids by id.
const BUILTIN_ELLIPSOIDS: [&str; 5] = ["grs80", "cgcs2000", "wgs84", "krassovsky", "iag1975"];

impl Registry {
    /// A registry with the built-in catalogue only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks up a CRS by id: a user-defined one, else the built-in catalogue
    /// ([`catalogue::lookup`]). Case-insensitive.
    pub fn lookup(&self, id: &str) -> Result<Crs, CrsError> {
        match self.user_crs(id) {
            Some(crs) => Ok(crs.clone()),
            None => catalogue::lookup(id),
        }
    }

    /// Compiles the conversion between two CRSs of this registry, by id.
    pub fn transformer(&self, source: &str, target: &str) -> Result<Transformer, BuildError> {
        Transformer::new(&self.lookup(source)?, &self.lookup(target)?)
    }

    /// The user-defined CRS with this id (case-insensitive), if there is one.
    pub fn user_crs(&self, id: &str) -> Option<&Crs> {
        self.crs_index.get(&key(id)).map(|&i| &self.crss[i])
    }

    /// The user-defined CRSs, in the order they were added.
    pub fn user_crss(&self) -> &[Crs] {
        &self.crss
    }

    /// A datum by id: a user-defined one, else a built-in (`CGCS2000`, `WGS84`, `BJ54`,
    /// `XIAN80`). Case-insensitive.
    pub fn datum(&self, id: &str) -> Option<Datum> {
        if let Some(&i) = self.datum_index.get(&key(id)) {
            return Some(self.datums[i].clone());
        }
        let id = id.trim();
        let builtin = [Datum::cgcs2000(), Datum::wgs84(), Datum::beijing1954(), Datum::xian1980()];
        builtin.into_iter().find(|d| d.id().eq_ignore_ascii_case(id))
    }

    /// An ellipsoid by id: a user-defined one, else a built-in (`grs80` = `cgcs2000`, `wgs84`,
    /// `krassovsky`, `iag1975`). Case-insensitive.
    pub fn ellipsoid(&self, id: &str) -> Option<Ellipsoid> {
        let id = id.trim();
        if let Some((_, e)) = self.ellipsoids.iter().find(|(k, _)| k.eq_ignore_ascii_case(id)) {
            return Some(e.clone());
        }
        match id.to_ascii_lowercase().as_str() {
            "grs80" | "cgcs2000" => Some(Ellipsoid::grs80()),
            "wgs84" => Some(Ellipsoid::wgs84()),
            "krassovsky" => Some(Ellipsoid::krassovsky()),
            "iag1975" => Some(Ellipsoid::iag1975()),
            _ => None,
        }
    }

    /// Adds a user-defined CRS. Fails if its id is a catalogue id or alias, or already added.
    pub fn add_crs(&mut self, crs: Crs) -> Result<(), RegistryError> {
        let clash = |by| RegistryError::Clash { kind: "CRS", id: crs.id().to_string(), by };
        if catalogue::lookup(crs.id()).is_ok() {
            return Err(clash("in the built-in catalogue"));
        }
        if self.user_crs(crs.id()).is_some() {
            return Err(clash("by an earlier definition"));
        }
        self.crs_index.insert(key(crs.id()), self.crss.len());
        self.crss.push(crs);
        Ok(())
    }

    /// Adds a user-defined datum. Fails if its id is a built-in datum's or already added.
    pub fn add_datum(&mut self, datum: Datum) -> Result<(), RegistryError> {
        let clash = |by| RegistryError::Clash { kind: "datum", id: datum.id().to_string(), by };
        if BUILTIN_DATUMS.iter().any(|b| b.eq_ignore_ascii_case(datum.id().trim())) {
            return Err(clash("in the built-in catalogue"));
        }
        if self.datum_index.contains_key(&key(datum.id())) {
            return Err(clash("by an earlier definition"));
        }
        self.datum_index.insert(key(datum.id()), self.datums.len());
        self.datums.push(datum);
        Ok(())
    }

    /// Adds a user-defined ellipsoid under `id`. Fails if the id is a built-in ellipsoid's or
    /// already added.
    pub fn add_ellipsoid(&mut self, id: &str, ellipsoid: Ellipsoid) -> Result<(), RegistryError> {
        let clash = |by| RegistryError::Clash { kind: "ellipsoid", id: id.to_string(), by };
        if BUILTIN_ELLIPSOIDS.iter().any(|b| b.eq_ignore_ascii_case(id.trim())) {
            return Err(clash("in the built-in catalogue"));
        }
        if self.ellipsoids.iter().any(|(k, _)| k.eq_ignore_ascii_case(id.trim())) {
            return Err(clash("by an earlier definition"));
        }
        self.ellipsoids.push((id.trim().to_string(), ellipsoid));
        Ok(())
    }
}

#[cfg(feature = "crs-file")]
impl Registry {
    /// Loads a CRS file into the registry: TOML, or JSON with the same structure (see
    /// [`crs_file::Format::detect`](crate::crs_file::Format::detect)). The file is loaded whole
    /// or not at all; errors name the file, line and field, never a value.
    pub fn load_file(
        &mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(), crate::CrsFileError> {
        crate::crs_file::load_file(self, path.as_ref())
    }

    /// Loads CRS-file text into the registry; `origin` names it in errors (e.g. a file name or
    /// `"config"`). Whole or not at all.
    pub fn load_str(
        &mut self,
        text: &str,
        origin: &str,
        format: crate::crs_file::Format,
    ) -> Result<(), crate::CrsFileError> {
        crate::crs_file::load_str(self, text, origin, format)
    }
}

/// The registry is what CRS files load into ([`Registry::load_file`]).
#[cfg(feature = "crs-file")]
impl crate::crs_file::Definitions for Registry {
    fn lookup(&self, id: &str) -> Result<Crs, CrsError> {
        Registry::lookup(self, id)
    }
    fn datum(&self, id: &str) -> Option<Datum> {
        Registry::datum(self, id)
    }
    fn ellipsoid(&self, id: &str) -> Option<Ellipsoid> {
        Registry::ellipsoid(self, id)
    }
    fn user_crs_count(&self) -> usize {
        self.crss.len()
    }
    fn add_crs(&mut self, crs: Crs) -> Result<(), RegistryError> {
        Registry::add_crs(self, crs)
    }
    fn add_datum(&mut self, datum: Datum) -> Result<(), RegistryError> {
        Registry::add_datum(self, datum)
    }
    fn add_ellipsoid(&mut self, id: &str, ellipsoid: Ellipsoid) -> Result<(), RegistryError> {
        Registry::add_ellipsoid(self, id, ellipsoid)
    }
}
