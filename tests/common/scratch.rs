//! A scratch folder under the system temp dir for tests that write files, removed on drop.

use std::path::{Path, PathBuf};

/// A folder `geounify-test-<name>-<pid>` under the system temp dir, emptied on creation and
/// removed on drop. Names need only be unique within one test binary (binaries have their own
/// pid).
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh, empty folder.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("geounify-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The path of `name` in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `contents` to `name` in the folder; its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// The names in the folder, sorted.
    pub fn listing(&self) -> Vec<String> {
        listing(&self.0)
    }

    /// Makes a FIFO (named pipe, mode 0600) `name` in the folder; its path. Opening it blocks
    /// until the other end is opened too: a test that lets the code under test open it must
    /// either expect a refusal before the open or feed it from another thread.
    #[cfg(unix)]
    pub fn fifo(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        mkfifo(&path);
        path
    }
}

/// Makes a FIFO (named pipe, mode 0600) at `path`.
#[cfg(unix)]
pub fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// The names in `dir` (files, folders, anything), sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
