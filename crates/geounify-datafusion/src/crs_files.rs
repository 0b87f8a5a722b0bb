//! CRS files as a session loads them: read once, hashed (SHA-256) and loaded from the same
//! bytes, so the digest names exactly the definitions in use.
//!
//! A plan that leaves the process (a distributed engine's worker, a serialised physical plan)
//! carries each file's path and digest — a [`Manifest`] — never the parameters inside: a
//! city's parameters are often confidential, and a path plus a digest is all a worker needs to
//! load the same definitions from its own copy and refuse a copy that differs.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use geounify::crs_file::Format;
use geounify::Registry;
use sha2::{Digest, Sha256};

/// The largest CRS file read (the core's own cap for CRS files).
const MAX_CRS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A CRS file by path and the SHA-256 digest of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrsFileRef {
    /// The path the file was (or is to be) read from.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

impl CrsFileRef {
    /// The digest as 64 lower-case hexadecimal digits.
    pub fn sha256_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.sha256 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// Why a CRS file could not be used.
#[derive(Debug)]
pub enum CrsFileLoadError {
    /// The file could not be opened or read, or is not a regular file.
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: String,
    },
    /// The file's bytes differ from those the plan was made with.
    DigestMismatch {
        /// The file.
        path: PathBuf,
        /// The digest the plan carries.
        expected: String,
        /// The digest of the file found at the path.
        found: String,
    },
    /// The file does not parse as a CRS file, or clashes with ids already loaded (the core's
    /// message: file, line and field, never a value).
    Definitions(String),
    /// A manifest could not be read.
    Manifest(String),
}

impl fmt::Display for CrsFileLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, reason } => {
                write!(f, "CRS file {}: {reason}", path.display())
            }
            Self::DigestMismatch { path, expected, found } => write!(
                f,
                "CRS file {} differs from the one the plan was made with \
                 (SHA-256 {found}, the plan expects {expected}); refusing to use it",
                path.display()
            ),
            Self::Definitions(message) => write!(f, "{message}"),
            Self::Manifest(message) => write!(f, "CRS file manifest: {message}"),
        }
    }
}

impl std::error::Error for CrsFileLoadError {}

/// Reads a CRS file whole (a regular file of at most 16 MiB) and returns its bytes and digest.
fn read_hashed(path: &Path) -> Result<(Vec<u8>, [u8; 32]), CrsFileLoadError> {
    let io = |e: std::io::Error| CrsFileLoadError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(CrsFileLoadError::Io {
            path: path.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_CRS_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_CRS_FILE_BYTES {
        return Err(CrsFileLoadError::Io {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_CRS_FILE_BYTES} bytes"),
        });
    }
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    Ok((bytes, digest))
}

/// Loads a CRS file into `registry` from the bytes it hashed; when `expected` is given, the
/// file is refused (nothing loaded) unless its digest matches.
pub(crate) fn load_into(
    registry: &mut Registry,
    path: &Path,
    expected: Option<&[u8; 32]>,
) -> Result<CrsFileRef, CrsFileLoadError> {
    let (bytes, sha256) = read_hashed(path)?;
    let file = CrsFileRef { path: path.to_path_buf(), sha256 };
    if let Some(expected) = expected {
        if *expected != sha256 {
            let want = CrsFileRef { path: path.to_path_buf(), sha256: *expected };
            return Err(CrsFileLoadError::DigestMismatch {
                path: path.to_path_buf(),
                expected: want.sha256_hex(),
                found: file.sha256_hex(),
            });
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| CrsFileLoadError::Io {
        path: path.to_path_buf(),
        reason: "not UTF-8 text".into(),
    })?;
    let origin = path.display().to_string();
    registry
        .load_str(&text, &origin, Format::detect(path, &text))
        .map_err(|e| CrsFileLoadError::Definitions(e.to_string()))?;
    Ok(file)
}

/// The CRS files of a session, in load order, by path and digest: what a plan carries to
/// another process.
///
/// Its text form ([`Manifest::encode`]) is one line of printable ASCII, so it fits in a
/// serialised plan and in an HTTP/gRPC header alike: `geounify-crs-files/1`, then for each file
/// `;<SHA-256 as 64 hex digits>:<the path's UTF-8 bytes in hex>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Manifest {
    /// The files, in the order they were loaded (later files may build on earlier ones).
    pub files: Vec<CrsFileRef>,
}

const MANIFEST_HEADER: &str = "geounify-crs-files/1";

impl Manifest {
    /// The manifest as one line of ASCII. Fails if a path is not UTF-8.
    pub fn encode(&self) -> Result<String, CrsFileLoadError> {
        let mut out = String::from(MANIFEST_HEADER);
        for file in &self.files {
            let path = file.path.to_str().ok_or_else(|| {
                CrsFileLoadError::Manifest(format!(
                    "the path {} is not UTF-8 and cannot travel in a plan",
                    file.path.display()
                ))
            })?;
            out.push(';');
            out.push_str(&file.sha256_hex());
            out.push(':');
            for b in path.bytes() {
                out.push_str(&format!("{b:02x}"));
            }
        }
        Ok(out)
    }

    /// Reads a manifest's text form.
    pub fn decode(text: &str) -> Result<Self, CrsFileLoadError> {
        let bad = |what: String| CrsFileLoadError::Manifest(what);
        let mut parts = text.split(';');
        if parts.next() != Some(MANIFEST_HEADER) {
            return Err(bad("not a geounify CRS-file manifest".into()));
        }
        let mut files = Vec::new();
        for (n, part) in parts.enumerate() {
            let entry = n + 1;
            let (hex, path_hex) =
                part.split_once(':').ok_or_else(|| bad(format!("entry {entry}: no path")))?;
            let sha256 = parse_hex32(hex)
                .ok_or_else(|| bad(format!("entry {entry}: the digest is not 64 hex digits")))?;
            let path = parse_hex(path_hex)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| bad(format!("entry {entry}: the path is not hex-encoded UTF-8")))?;
            files.push(CrsFileRef { path: PathBuf::from(path), sha256 });
        }
        Ok(Self { files })
    }
}

fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    parse_hex(hex)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip_and_refusals() {
        let m = Manifest {
            files: vec![CrsFileRef {
                path: PathBuf::from("/data/城市 grid.toml"),
                sha256: [0xab; 32],
            }],
        };
        let text = m.encode().unwrap();
        assert_eq!(Manifest::decode(&text).unwrap(), m);
        assert!(text.bytes().all(|b| b.is_ascii_graphic()), "{text}");
        assert!(Manifest::decode("nope").is_err());
        assert!(Manifest::decode("geounify-crs-files/1;zz:61").is_err());
        assert!(Manifest::decode(&format!("geounify-crs-files/1;{}:6", "ab".repeat(32))).is_err());
        let newline =
            Manifest { files: vec![CrsFileRef { path: PathBuf::from("a\nb"), sha256: [0; 32] }] };
        assert_eq!(Manifest::decode(&newline.encode().unwrap()).unwrap(), newline);
    }
}
