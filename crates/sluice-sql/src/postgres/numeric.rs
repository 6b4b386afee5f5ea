//! PostgreSQL's binary `numeric`: base-10000 digits with a weight, a sign
//! and a display scale. Read exactly, either as an unscaled 128-bit integer
//! for a column's declared scale, or as decimal text.

const NAN: u16 = 0xC000;
const NEGATIVE: u16 = 0x4000;

struct Numeric<'a> {
    weight: i32,
    negative: bool,
    dscale: u16,
    digits: &'a [u8],
}

fn parse(bytes: &[u8]) -> Result<Numeric<'_>, String> {
    if bytes.len() < 8 {
        return Err("a numeric shorter than its header".into());
    }
    let count = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    let weight = i16::from_be_bytes([bytes[2], bytes[3]]) as i32;
    let sign = u16::from_be_bytes([bytes[4], bytes[5]]);
    let dscale = u16::from_be_bytes([bytes[6], bytes[7]]);
    if sign >= NAN {
        return Err(
            "NaN or infinity cannot be extracted as a decimal; replace it in the query".into(),
        );
    }
    let digits = &bytes[8..];
    if digits.len() != count * 2 {
        return Err("a numeric with a wrong number of digits".into());
    }
    Ok(Numeric {
        weight,
        negative: sign == NEGATIVE,
        dscale,
        digits,
    })
}

fn digit(digits: &[u8], i: usize) -> i128 {
    i16::from_be_bytes([digits[2 * i], digits[2 * i + 1]]) as i128
}

/// The value times 10^`scale`, exactly (digits beyond the scale must be zero,
/// as they are for a column declared `numeric(p, scale)`).
pub(super) fn to_unscaled(bytes: &[u8], scale: i8) -> Result<i128, String> {
    let n = parse(bytes)?;
    let count = n.digits.len() / 2;
    let overflow = || "the decimal does not fit 38 digits".to_string();
    let mut acc: i128 = 0;
    for i in 0..count {
        acc = acc
            .checked_mul(10_000)
            .and_then(|a| a.checked_add(digit(n.digits, i)))
            .ok_or_else(overflow)?;
    }
    // acc × 10000^(weight − count + 1) × 10^scale
    let exponent = 4 * (n.weight - count as i32 + 1) + scale as i32;
    if exponent >= 0 {
        acc = 10i128
            .checked_pow(exponent as u32)
            .and_then(|p| acc.checked_mul(p))
            .ok_or_else(overflow)?;
    } else {
        let divisor = 10i128.checked_pow((-exponent) as u32);
        acc = match divisor {
            Some(d) if acc % d == 0 => acc / d,
            Some(_) => return Err(format!("the decimal has more than {scale} decimal places")),
            None if acc == 0 => 0,
            None => return Err(format!("the decimal has more than {scale} decimal places")),
        };
    }
    Ok(if n.negative { -acc } else { acc })
}

/// The exact decimal text, with the value's display scale.
pub(super) fn to_text(bytes: &[u8]) -> Result<String, String> {
    let n = parse(bytes)?;
    let count = (n.digits.len() / 2) as i32;
    let group = |i: i32| -> i128 {
        if (0..count).contains(&i) {
            digit(n.digits, i as usize)
        } else {
            0
        }
    };
    let mut text = String::new();
    if n.negative {
        text.push('-');
    }
    // Integer part: groups 0..=weight.
    if n.weight < 0 {
        text.push('0');
    } else {
        for i in 0..=n.weight {
            if i == 0 {
                text.push_str(&group(i).to_string());
            } else {
                text.push_str(&format!("{:04}", group(i)));
            }
        }
    }
    if n.dscale > 0 {
        text.push('.');
        let mut fraction = String::new();
        let mut i = n.weight + 1;
        while fraction.len() < n.dscale as usize {
            fraction.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        fraction.truncate(n.dscale as usize);
        text.push_str(&fraction);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the wire form: digits (base 10000), weight, sign, dscale.
    fn wire(digits: &[i16], weight: i16, negative: bool, dscale: u16) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend((digits.len() as u16).to_be_bytes());
        out.extend(weight.to_be_bytes());
        out.extend(if negative { NEGATIVE } else { 0 }.to_be_bytes());
        out.extend(dscale.to_be_bytes());
        for d in digits {
            out.extend(d.to_be_bytes());
        }
        out
    }

    #[test]
    fn decimals_are_read_exactly() {
        // 12345.67 = [1, 2345, 6700], weight 1, dscale 2
        let v = wire(&[1, 2345, 6700], 1, false, 2);
        assert_eq!(to_unscaled(&v, 2).unwrap(), 1_234_567);
        assert_eq!(to_unscaled(&v, 4).unwrap(), 123_456_700);
        assert!(to_unscaled(&v, 1).is_err(), "digits beyond the scale");
        assert_eq!(to_text(&v).unwrap(), "12345.67");
        // -0.05 = [500], weight -1, dscale 2
        let v = wire(&[500], -1, true, 2);
        assert_eq!(to_unscaled(&v, 2).unwrap(), -5);
        assert_eq!(to_text(&v).unwrap(), "-0.05");
        // 0 has no digits
        let v = wire(&[], 0, false, 3);
        assert_eq!(to_unscaled(&v, 3).unwrap(), 0);
        assert_eq!(to_text(&v).unwrap(), "0.000");
        // 20000000 = [2000], weight 1 ... i.e. 2000 × 10000
        let v = wire(&[2000], 1, false, 0);
        assert_eq!(to_text(&v).unwrap(), "20000000");
        assert_eq!(to_unscaled(&v, 0).unwrap(), 20_000_000);
    }

    #[test]
    fn nan_and_short_values_are_refused() {
        let mut v = wire(&[], 0, false, 0);
        v[4..6].copy_from_slice(&NAN.to_be_bytes());
        assert!(to_text(&v).unwrap_err().contains("NaN"));
        assert!(to_unscaled(&[0, 1], 0).is_err());
    }
}
