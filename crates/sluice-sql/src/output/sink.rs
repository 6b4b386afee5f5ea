//! Where encoders write: the output (a file, or anything that writes like
//! one), through a buffer, with whole-file compression for the text formats,
//! counting the bytes that reach the output.

use super::{Compression, Format, OutputSpec};
use flate2::write::GzEncoder;
use std::any::Any;
use std::io::{self, BufWriter, Write};

/// zstd's default level: fast, with a good ratio.
const ZSTD_LEVEL: i32 = 3;

/// What an export writes to, handed back to the caller when it is done.
pub trait Output: Write + Send + 'static {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Write + Send + 'static> Output for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A buffered output that counts what it receives.
pub(crate) struct Counted {
    file: BufWriter<Box<dyn Output>>,
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
    pub fn new(file: Box<dyn Output>, spec: OutputSpec) -> io::Result<Sink> {
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

    /// Ends the compressed stream, flushes, and returns the output's size
    /// and the output itself.
    pub fn finish(self) -> io::Result<(u64, Box<dyn Output>)> {
        let counted = match self {
            Sink::Plain(c) => c,
            Sink::Gzip(g) => g.finish()?,
            Sink::Zstd(z) => z.finish()?,
        };
        let output = counted.file.into_inner().map_err(|e| e.into_error())?;
        Ok((counted.bytes, output))
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
