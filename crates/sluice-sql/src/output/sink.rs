//! Where encoders write: the file, through a buffer, with whole-file
//! compression for the text formats, counting the bytes that reach the file.

use super::{Compression, Format, OutputSpec};
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{self, BufWriter, Write};

/// zstd's default level: fast, with a good ratio.
const ZSTD_LEVEL: i32 = 3;

/// A buffered file that counts what it receives.
pub(crate) struct Counted {
    file: BufWriter<File>,
    bytes: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The file, compressed or not.
pub(crate) enum Sink {
    Plain(Counted),
    Gzip(GzEncoder<Counted>),
    Zstd(zstd::Encoder<'static, Counted>),
}

impl Sink {
    pub fn new(file: File, spec: OutputSpec) -> io::Result<Sink> {
        let counted = Counted {
            file: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
        };
        // Parquet compresses inside the file.
        if spec.format == Format::Parquet {
            return Ok(Sink::Plain(counted));
        }
        Ok(match spec.compression {
            Compression::None => Sink::Plain(counted),
            Compression::Gzip => Sink::Gzip(GzEncoder::new(counted, flate2::Compression::fast())),
            Compression::Zstd => Sink::Zstd(zstd::Encoder::new(counted, ZSTD_LEVEL)?),
        })
    }

    /// Ends the compressed stream, flushes, and returns the file's size.
    pub fn finish(self) -> io::Result<u64> {
        let mut counted = match self {
            Sink::Plain(c) => c,
            Sink::Gzip(g) => g.finish()?,
            Sink::Zstd(z) => z.finish()?,
        };
        counted.flush()?;
        Ok(counted.bytes)
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
            Sink::Zstd(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
            Sink::Zstd(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
            Sink::Zstd(w) => w.flush(),
        }
    }
}
