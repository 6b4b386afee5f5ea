//! Scratch files: where a result is prepared before it becomes an object.
//!
//! A [`ScratchFile`] lives in `DATA_DIR/objects/scratch` and hashes (MD5, for
//! the ETag) and counts the bytes as they are written, so storing it needs no
//! second pass over the data. [`ObjectService::put_file`] syncs it and, when
//! the bucket's blobs are on the same disk, renames it into place instead of
//! copying it. A scratch file that is dropped unstored is deleted; one a crash
//! left behind is deleted when the data directory is next opened.
//!
//! [`ObjectService::put_file`]: crate::ObjectService::put_file

use md5::{Digest, Md5};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use tempfile::TempPath;

/// A file being written, with the MD5 and size of what has been written.
/// Written only through [`Write`] (no seeking), so the digest is the
/// digest of the file.
#[derive(Debug)]
pub struct ScratchFile {
    file: File,
    path: TempPath,
    md5: Md5,
    size: u64,
}

/// A finished scratch file: synced, with its size and MD5.
#[derive(Debug)]
pub(crate) struct SealedScratch {
    pub path: TempPath,
    pub size: u64,
    pub md5: [u8; 16],
}

impl ScratchFile {
    pub(crate) fn new_in(dir: &Path) -> io::Result<ScratchFile> {
        let (file, path) = tempfile::Builder::new()
            .prefix("scratch-")
            .tempfile_in(dir)?
            .into_parts();
        Ok(ScratchFile {
            file,
            path,
            md5: Md5::new(),
            size: 0,
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes and syncs the file (blocking), closing it.
    pub(crate) fn seal(mut self) -> io::Result<SealedScratch> {
        self.file.flush()?;
        self.file.sync_all()?;
        Ok(SealedScratch {
            path: self.path,
            size: self.size,
            md5: self.md5.finalize().into(),
        })
    }
}

impl Write for ScratchFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.md5.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut scratch = ScratchFile::new_in(dir.path()).unwrap();
        scratch.write_all(b"id,name\n").unwrap();
        scratch.write_all(b"1,a\n").unwrap();
        assert_eq!(scratch.size(), 12);
        let sealed = scratch.seal().unwrap();
        assert_eq!(std::fs::read(&sealed.path).unwrap(), b"id,name\n1,a\n");
        assert_eq!(sealed.md5, <[u8; 16]>::from(Md5::digest(b"id,name\n1,a\n")));
        let path = sealed.path.to_path_buf();
        drop(sealed);
        assert!(!path.exists(), "an unstored scratch file is deleted");
    }
}
