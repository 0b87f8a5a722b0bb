//! Atomic outputs: every output is written to a temporary file in the output's own folder and
//! renamed over the final path only when the whole conversion has succeeded, so a failure (or an
//! interrupted run) never leaves a half-written output or touches an existing one. Temporary
//! files are named `.<name>.geounify-<pid>-<n>.tmp` and removed on failure, and on Ctrl-C by the
//! CLI's handler ([`remove_temporaries`]).

use super::{ConvertError, FileFormat};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary files not yet committed or removed, for [`remove_temporaries`].
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary file this process has not committed yet (with SQLite's `-journal`,
/// `-wal` and `-shm` companions): for an interrupt handler (the CLI calls it on Ctrl-C before
/// exiting), so that an interrupted run leaves neither a half-written output nor litter.
pub fn remove_temporaries() {
    for path in live().drain(..) {
        let _ = std::fs::remove_file(&path);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut companion = path.clone().into_os_string();
            companion.push(suffix);
            let _ = std::fs::remove_file(companion);
        }
    }
}

/// A file being written under a temporary name, renamed to its final path by
/// [`commit`](Self::commit) and removed if dropped uncommitted.
#[derive(Debug)]
pub struct AtomicFile {
    final_path: PathBuf,
    temp_path: PathBuf,
    writer: BufWriter<File>,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `final_path`.
    pub fn create(final_path: &Path) -> io::Result<Self> {
        let temp_path = temp_path_for(final_path);
        live().push(temp_path.clone());
        let file = match File::options().write(true).create_new(true).open(&temp_path) {
            Ok(file) => file,
            Err(e) => {
                live().retain(|p| p != &temp_path);
                return Err(e);
            }
        };
        Ok(Self {
            final_path: final_path.to_path_buf(),
            temp_path,
            writer: BufWriter::with_capacity(1 << 20, file),
            committed: false,
        })
    }

    /// The final path.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The temporary path (for formats written by another library, e.g. SQLite, which open it
    /// themselves).
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    /// Flushes, syncs and renames the temporary file over the final path; the final path.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        std::fs::rename(&self.temp_path, &self.final_path)?;
        self.committed = true;
        live().retain(|p| p != &self.temp_path);
        Ok(self.final_path.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp_path);
            live().retain(|p| p != &self.temp_path);
        }
    }
}

/// Several files committed together (a Shapefile's .shp, .shx, .dbf, .prj, .cpg): all are
/// written under temporary names first and renamed one after another only once all are
/// complete.
#[derive(Debug, Default)]
pub struct AtomicSet {
    files: Vec<AtomicFile>,
}

impl AtomicSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a file to the set; its index.
    pub fn create(&mut self, final_path: &Path) -> io::Result<usize> {
        self.files.push(AtomicFile::create(final_path)?);
        Ok(self.files.len() - 1)
    }
    /// The file at `index`.
    pub fn file(&mut self, index: usize) -> &mut AtomicFile {
        &mut self.files[index]
    }
    /// Commits every file; their final paths.
    pub fn commit(self) -> io::Result<Vec<PathBuf>> {
        self.files.into_iter().map(AtomicFile::commit).collect()
    }
}

/// A fresh temporary path in `final_path`'s folder.
fn temp_path_for(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = format!(".{name}.geounify-{}-{n}.tmp", std::process::id());
    final_path.with_file_name(temp)
}

/// Refuses an `output` that is `input` (or, for a Shapefile, has the same stem in the same
/// folder, so that one of the set's files would be overwritten).
pub fn refuse_same_file(
    input: &Path,
    output: &Path,
    format: FileFormat,
) -> Result<(), ConvertError> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let clash = if format == FileFormat::Shapefile {
        let sibling = |p: &Path| p.with_extension("shp");
        let folder = |p: &Path| {
            p.parent()
                .map(|d| if d.as_os_str().is_empty() { Path::new(".") } else { d })
                .and_then(|d| d.canonicalize().ok())
        };
        let stem = |p: &Path| p.file_stem().map(|s| s.to_string_lossy().to_lowercase());
        same(input, output)
            || same(&sibling(input), &sibling(output))
            || (folder(input).is_some()
                && folder(input) == folder(output)
                && stem(input) == stem(output))
    } else {
        same(input, output)
    };
    if clash {
        return Err(ConvertError::SameFile { path: output.to_path_buf() });
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.writer().write_all(bytes)?;
    file.commit().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_files_leave_nothing_and_committed_ones_replace() {
        let dir = std::env::temp_dir().join(format!("geounify-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.csv");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.writer().write_all(b"half").unwrap();
        } // dropped: failure
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "temporary file removed");
        let mut f = AtomicFile::create(&target).unwrap();
        f.writer().write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(refuse_same_file(&target, &target, FileFormat::Csv).is_err());
        assert!(refuse_same_file(&target, &dir.join("other.csv"), FileFormat::Csv).is_ok());
        let shp = dir.join("roads.shp");
        assert!(refuse_same_file(&shp, &dir.join("ROADS.shp"), FileFormat::Shapefile).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
