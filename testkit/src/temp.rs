//! Temporary folders, removed when dropped.

pub use tempfile::TempDir;

/// A fresh folder under the system temp dir named `lenscast-<tag>-<random>`, so a leftover
/// one says which test or tool made it.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lenscast-{tag}-"))
        .tempdir()
        .expect("the temp dir is writable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_named_and_removed() {
        let dir = temp_dir("unit");
        let path = dir.path().to_owned();
        assert!(path.is_dir());
        assert!(
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("lenscast-unit-"))
        );
        drop(dir);
        assert!(!path.exists());
    }
}
