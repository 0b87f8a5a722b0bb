//! Atomic outputs: every output is written to a temporary file in the output's own folder and
//! renamed over the final path only when the whole conversion has succeeded, so a failure (or an
//! interrupted run) never leaves a half-written output or touches an existing one. Temporary
//! files are named `.<name>.geounify-<pid>-<n>.tmp` and removed on failure, and on Ctrl-C by the
//! CLI's handler ([`remove_temporaries`]). A SIGKILL (or power loss) can leave such a hidden
//! temporary file, never a half-written output; the next run into the same output removes it
//! ([`remove_leftover_temporaries`]).
//!
//! A set of files replaced together (a Shapefile) is written into a temporary folder and moved
//! into place with a journal: [`AtomicSet`], which also says what a kill can leave and how the
//! next run into the same output cleans it ([`recover_leftovers`]).

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
        if path.is_dir() {
            // An AtomicSet's folder: kept once its commit has begun (the next run completes it).
            if !path.join(JOURNAL).exists() {
                let _ = std::fs::remove_dir_all(&path);
            }
            continue;
        }
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

/// The name of the journal an [`AtomicSet`] writes into its temporary folder just before it
/// starts renaming: one line per step, `rename NAME` (a file of the new set, from the folder to
/// the output's folder) or `remove NAME` (a sidecar of the old set the new set lacks).
const JOURNAL: &str = "COMMIT";

/// Several files replaced together as one set (a Shapefile's `.shp`, `.shx`, `.dbf`, `.prj`,
/// `.cpg`): all are written into a temporary folder beside the outputs,
/// `.<anchor>.geounify-<pid>-<n>.set` (the anchor being e.g. `roads.shp`), and moved into place
/// only once all are complete; files of the old set that the new set lacks (an old `.prj`
/// when the new target has no WKT form, an old `.cpg`, spatial indexes `.qix`, `.sbn`, ... —
/// the `family` of extensions given to [`new`](Self::new)) are removed at the same time, so a
/// reconverted set never keeps a stale sidecar.
///
/// Renaming several files is not atomic as a whole. The commit first writes a journal
/// (`COMMIT`, the renames and removals to do) into the temporary folder and syncs it, then
/// renames and removes, then deletes the folder. What a kill can leave:
/// - before the journal: the old set untouched, and the temporary folder with part of the new
///   files;
/// - after it: a mix of old and new files of the set (readers see it until the next run), and
///   the temporary folder with the journal and the files not yet moved.
///
/// The next conversion into the same output ([`recover_leftovers`], called before anything is
/// written) removes a folder without a journal, and completes an interrupted commit from its
/// journal (the new files were complete and synced before it was written), so the set is the
/// whole set of the interrupted run again before it is replaced. A folder whose process is
/// still running (Linux: `/proc/<pid>` exists) is refused instead. Dropped uncommitted (a
/// failure), the folder is removed; on Ctrl-C, [`remove_temporaries`] removes it unless the
/// commit has begun.
#[derive(Debug)]
pub struct AtomicSet {
    /// The temporary folder.
    folder: PathBuf,
    /// The output folder.
    parent: PathBuf,
    /// The anchor's file stem: the set is `stem.<ext>`.
    stem: String,
    /// Lower-case extensions of the set's family.
    family: Vec<String>,
    files: Vec<SetFile>,
    committed: bool,
}

/// One file of an [`AtomicSet`], being written in the set's temporary folder.
#[derive(Debug)]
pub struct SetFile {
    final_path: PathBuf,
    temp_path: PathBuf,
    writer: BufWriter<File>,
}

impl SetFile {
    /// The buffered writer.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }
    /// The final path.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }
}

/// The folder of `path` (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `true` if `name` is `stem.<ext>` with `ext` (compared case-insensitively) in `family`.
fn in_family(name: &str, stem: &str, family: &[String]) -> bool {
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|ext| family.iter().any(|f| f.eq_ignore_ascii_case(ext)))
}

impl AtomicSet {
    /// A new set whose files are `anchor`'s siblings `stem.<ext>`, `ext` one of `family`
    /// (lower case, e.g. `["shp", "shx", "dbf", "prj", "cpg", "qix", "shp.xml"]`); creates
    /// its temporary folder beside `anchor`.
    pub fn new(anchor: &Path, family: &[&str]) -> io::Result<Self> {
        let name = anchor
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let stem = anchor
            .file_stem()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let parent = folder_of(anchor);
        let folder =
            anchor.with_file_name(format!(".{name}.geounify-{}-{n}.set", std::process::id()));
        live().push(folder.clone());
        if let Err(e) = std::fs::create_dir(&folder) {
            live().retain(|p| p != &folder);
            return Err(e);
        }
        Ok(Self {
            folder,
            parent,
            stem,
            family: family.iter().map(|f| f.to_ascii_lowercase()).collect(),
            files: Vec::new(),
            committed: false,
        })
    }

    /// Adds a file to the set (written in the temporary folder until the commit); its index.
    /// `final_path` must be `stem.<ext>` beside the anchor, `ext` of the family (else an
    /// `InvalidInput` error).
    pub fn create(&mut self, final_path: &Path) -> io::Result<usize> {
        let name = final_path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| in_family(n, &self.stem, &self.family))
            .filter(|_| folder_of(final_path) == self.parent)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a file of this set", final_path.display()),
                )
            })?;
        let temp_path = self.folder.join(name);
        let file = File::options().write(true).create_new(true).open(&temp_path)?;
        self.files.push(SetFile {
            final_path: final_path.to_path_buf(),
            temp_path,
            writer: BufWriter::with_capacity(1 << 20, file),
        });
        Ok(self.files.len() - 1)
    }

    /// The file at `index`.
    pub fn file(&mut self, index: usize) -> &mut SetFile {
        &mut self.files[index]
    }

    /// Syncs every file, writes the journal, moves the files into place and removes the old
    /// set's sidecars the new set lacks; the final paths, in the order the files were added.
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        let mut journal = String::new();
        let mut new_names = Vec::new();
        for f in &mut self.files {
            f.writer.flush()?;
            f.writer.get_ref().sync_all()?;
            let name = f.temp_path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            journal.push_str(&format!("rename {name}\n"));
            new_names.push(name);
        }
        for entry in std::fs::read_dir(&self.parent)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if in_family(&name, &self.stem, &self.family) && !new_names.contains(&name) {
                journal.push_str(&format!("remove {name}\n"));
            }
        }
        let journal_path = self.folder.join(JOURNAL);
        let mut j = File::create(&journal_path)?;
        j.write_all(journal.as_bytes())?;
        j.sync_all()?;
        sync_folder(&self.folder);
        // From here on the commit is completed by the next run if this one is killed.
        self.committed = true;
        replay(&self.folder, &self.parent, &self.stem, &self.family, &journal)?;
        live().retain(|p| p != &self.folder);
        Ok(self.files.iter().map(|f| f.final_path.clone()).collect())
    }
}

impl Drop for AtomicSet {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.folder);
            live().retain(|p| p != &self.folder);
        }
    }
}

/// Syncs a folder's entries to disk (a rename or removal in it), where the platform allows.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(f) = File::open(folder) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// Carries out `journal` (see [`AtomicSet`]): renames from `folder` into `parent`, removals in
/// `parent`; then deletes `folder`. Every name must be `stem.<ext>` of the family (a journal
/// naming anything else is refused, nothing done).
fn replay(
    folder: &Path,
    parent: &Path,
    stem: &str,
    family: &[String],
    journal: &str,
) -> io::Result<()> {
    let mut steps = Vec::new();
    for line in journal.lines() {
        let step = line.split_once(' ').filter(|(op, name)| {
            matches!(*op, "rename" | "remove")
                && !name.contains(['/', '\\'])
                && in_family(name, stem, family)
        });
        let Some(step) = step else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: not a geounify journal line: {line:?}",
                    folder.join(JOURNAL).display()
                ),
            ));
        };
        steps.push(step);
    }
    for (op, name) in steps {
        let result = if op == "rename" {
            let from = folder.join(name);
            if from.exists() {
                std::fs::rename(&from, parent.join(name))
            } else {
                Ok(()) // moved before the interruption
            }
        } else {
            std::fs::remove_file(parent.join(name))
        };
        match result {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    sync_folder(parent);
    std::fs::remove_dir_all(folder)
}

/// Finds temporary set folders of earlier runs beside `anchor` (see [`AtomicSet`]) and cleans
/// them up before a new conversion into `anchor`: a folder without a journal is removed, an
/// interrupted commit is completed from its journal. One message per folder handled, for the
/// report's warnings. A folder whose process is still running is refused (an error naming it):
/// two conversions into one output at once are not supported.
pub fn recover_leftovers(anchor: &Path, family: &[&str]) -> io::Result<Vec<String>> {
    let mut messages = Vec::new();
    let Some(name) = anchor.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(messages);
    };
    let stem = anchor.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let family: Vec<String> = family.iter().map(|f| f.to_ascii_lowercase()).collect();
    let parent = folder_of(anchor);
    let prefix = format!(".{name}.geounify-");
    let entries = match std::fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(messages),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = entry_name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".set"))
        else {
            continue;
        };
        let folder = anchor.with_file_name(&entry_name); // as the user named the output
        if !entry.file_type()?.is_dir() || live().contains(&folder) {
            continue;
        }
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid.filter(|&p| p != std::process::id() && process_running(p)) {
            return Err(io::Error::other(format!(
                "{}: process {pid} is still writing this output (remove the folder if it is not)",
                folder.display()
            )));
        }
        match std::fs::read_to_string(folder.join(JOURNAL)) {
            Ok(journal) => {
                replay(&folder, &parent, &stem, &family, &journal)?;
                messages.push(format!(
                    "{}: completed the replacement of the {} set that an interrupted run had \
                     begun",
                    folder.display(),
                    name
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::remove_dir_all(&folder)?;
                messages.push(format!(
                    "{}: removed the unfinished output of an interrupted run",
                    folder.display()
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(messages)
}

/// Whether process `pid` is running (Linux: `/proc/<pid>` exists; elsewhere unknown: `false`).
fn process_running(pid: u32) -> bool {
    cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temporary files that earlier runs into `final_path` left behind when they were
/// killed (SIGKILL, power loss: no handler ran). Called by
/// [`convert_file`](super::convert_file) once the new output is in place (a refused or failed
/// conversion changes nothing), and by `unify` for `lineage.json` and for the output of a
/// dataset that failed (whose earlier output it removes too).
///
/// Only files that are certainly ours are touched: regular files (not links, folders, FIFOs)
/// in `final_path`'s folder named exactly `.<name>.geounify-<pid>-<n>.tmp` — `<name>` being
/// `final_path`'s file name (same case), `<pid>` and `<n>` decimal numbers, the name
/// [`AtomicFile`] gives its temporary file — or that name followed by SQLite's `-journal`,
/// `-wal` or `-shm` (a GeoPackage's companions). Among those, a file whose process `<pid>` is
/// still running (Linux: `/proc/<pid>` exists; another conversion into the same output, or an
/// unrelated process that reused the pid) is left alone and reported; elsewhere the process is
/// taken as gone (as for [`recover_leftovers`]). This process's own live temporaries are never
/// removed.
///
/// Returns one message per file removed or left alone, for the report's warnings, e.g.
/// `out/.poi.csv.geounify-4242-0.tmp: removed the temporary file of an interrupted run
/// (process 4242)`. Errors: listing the folder or removing a file failed (a folder that does
/// not exist has nothing to clean).
pub fn remove_leftover_temporaries(final_path: &Path) -> io::Result<Vec<String>> {
    let mut messages = Vec::new();
    let Some(name) = final_path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(messages);
    };
    let prefix = format!(".{name}.geounify-");
    let entries = match std::fs::read_dir(folder_of(final_path)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(messages),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(entry_name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        let Some(pid) = entry_name.strip_prefix(&prefix).and_then(temporary_pid) else {
            continue;
        };
        // Named as the user named the output; a link or anything but a file is not ours.
        let path = final_path.with_file_name(&entry_name);
        if entry.file_type()?.is_file() && !live().contains(&path) {
            found.push((path, pid));
        }
    }
    found.sort();
    for (path, pid) in found {
        if pid != std::process::id() && process_running(pid) {
            messages.push(format!(
                "{}: left alone: process {pid}, which wrote it, is still running",
                path.display()
            ));
            continue;
        }
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        messages.push(format!(
            "{}: removed the temporary file of an interrupted run (process {pid})",
            path.display()
        ));
    }
    if !messages.is_empty() {
        sync_folder(&folder_of(final_path));
    }
    Ok(messages)
}

/// The pid in `rest` = `<pid>-<n>.tmp` (optionally followed by `-journal`, `-wal` or `-shm`),
/// both decimal; `None` for any other name.
fn temporary_pid(rest: &str) -> Option<u32> {
    let rest = ["-journal", "-wal", "-shm"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
        .unwrap_or(rest);
    let (pid, n) = rest.strip_suffix(".tmp")?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(n)).then(|| pid.parse().ok()).flatten()
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
    let clash = if super::format::of(format).is_set() {
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
