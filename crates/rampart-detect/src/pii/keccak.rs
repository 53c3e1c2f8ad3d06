//! Keccak-256 (the pre-standard SHA-3 padding Ethereum uses) and the EIP-55 mixed-case address checksum.
//!
//! Only EIP-55 needs it, on 40-byte inputs, so the sponge below absorbs a single block and is written for
//! clarity rather than throughput.

const ROUND_CONSTANTS: [u64; 24] = [
    0x0000_0000_0000_0001,
    0x0000_0000_0000_8082,
    0x8000_0000_0000_808a,
    0x8000_0000_8000_8000,
    0x0000_0000_0000_808b,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8009,
    0x0000_0000_0000_008a,
    0x0000_0000_0000_0088,
    0x0000_0000_8000_8009,
    0x0000_0000_8000_000a,
    0x0000_0000_8000_808b,
    0x8000_0000_0000_008b,
    0x8000_0000_0000_8089,
    0x8000_0000_0000_8003,
    0x8000_0000_0000_8002,
    0x8000_0000_0000_0080,
    0x0000_0000_0000_800a,
    0x8000_0000_8000_000a,
    0x8000_0000_8000_8081,
    0x8000_0000_0000_8080,
    0x0000_0000_8000_0001,
    0x8000_0000_8000_8008,
];

// Rotation offsets r[x][y] of the rho step, indexed by lane x + 5y.
const ROTATIONS: [u32; 25] = [
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
];

fn keccak_f1600(a: &mut [u64; 25]) {
    for rc in ROUND_CONSTANTS {
        // theta
        let mut c = [0u64; 5];
        for x in 0..5 {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        for x in 0..5 {
            let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
            for y in 0..5 {
                a[x + 5 * y] ^= d;
            }
        }
        // rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y])
        let mut b = [0u64; 25];
        for x in 0..5 {
            for y in 0..5 {
                b[y + 5 * ((2 * x + 3 * y) % 5)] = a[x + 5 * y].rotate_left(ROTATIONS[x + 5 * y]);
            }
        }
        // chi
        for y in 0..5 {
            for x in 0..5 {
                a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
            }
        }
        // iota
        a[0] ^= rc;
    }
}

/// Keccak-256 of `data` (rate 136 bytes, padding `0x01 ... 0x80`).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    const RATE: usize = 136;
    let mut state = [0u64; 25];
    let absorb = |block: &[u8; RATE], state: &mut [u64; 25]| {
        for (lane, chunk) in state.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            *lane ^= u64::from_le_bytes(w);
        }
        keccak_f1600(state);
    };
    let mut chunks = data.chunks_exact(RATE);
    for chunk in chunks.by_ref() {
        let mut block = [0u8; RATE];
        block.copy_from_slice(chunk);
        absorb(&block, &mut state);
    }
    let rest = chunks.remainder();
    let mut block = [0u8; RATE];
    block[..rest.len()].copy_from_slice(rest);
    block[rest.len()] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    absorb(&block, &mut state);
    let mut out = [0u8; 32];
    for (dst, lane) in out.chunks_exact_mut(8).zip(state.iter()) {
        dst.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

/// EIP-55: for a 40-hex-digit address with mixed case, every letter must be upper case exactly when the
/// matching nibble of keccak256(lower-case address) is 8 or more. Returns `None` for single-case addresses,
/// which carry no checksum.
pub fn eip55(hex40: &[u8]) -> Option<bool> {
    if hex40.len() != 40 || !hex40.iter().all(u8::is_ascii_hexdigit) {
        return Some(false);
    }
    let has_upper = hex40.iter().any(u8::is_ascii_uppercase);
    let has_lower = hex40.iter().any(u8::is_ascii_lowercase);
    if !(has_upper && has_lower) {
        return None;
    }
    let mut lower = [0u8; 40];
    for (d, s) in lower.iter_mut().zip(hex40) {
        *d = s.to_ascii_lowercase();
    }
    let hash = keccak256(&lower);
    let ok = hex40.iter().enumerate().all(|(i, &c)| {
        let nibble = if i % 2 == 0 {
            hash[i / 2] >> 4
        } else {
            hash[i / 2] & 0x0f
        };
        !c.is_ascii_alphabetic() || c.is_ascii_uppercase() == (nibble >= 8)
    });
    Some(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn keccak_known_digests() {
        assert_eq!(
            hex(&keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex(&keccak256(b"abc")),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
        );
        // Two blocks: exercises absorption past the rate.
        let long = [b'a'; 200];
        assert_ne!(keccak256(&long), keccak256(&long[..199]));
    }

    #[test]
    fn eip55_reference_addresses() {
        for a in [
            "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(eip55(a.as_bytes()), Some(true), "{a}");
        }
        assert_eq!(
            eip55(b"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Some(false)
        );
        assert_eq!(eip55(b"5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), None);
    }

    fn checksum(lower: &str) -> String {
        let hash = keccak256(lower.as_bytes());
        lower
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let nibble = if i % 2 == 0 {
                    hash[i / 2] >> 4
                } else {
                    hash[i / 2] & 0x0f
                };
                if nibble >= 8 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn checksummed_addresses_pass_and_a_flipped_letter_fails(addr in "[0-9a-f]{40}", pick in 0usize..40) {
            let mixed = checksum(&addr);
            let has_both = mixed.bytes().any(|b| b.is_ascii_uppercase()) && mixed.bytes().any(|b| b.is_ascii_lowercase());
            prop_assume!(has_both);
            prop_assert_eq!(eip55(mixed.as_bytes()), Some(true));
            let mut bytes = mixed.into_bytes();
            let letters: Vec<usize> = (0..40).filter(|&i| bytes[i].is_ascii_alphabetic()).collect();
            prop_assume!(letters.len() > 2);
            let i = letters[pick % letters.len()];
            bytes[i] ^= 0x20;
            let still_mixed = bytes.iter().any(u8::is_ascii_uppercase) && bytes.iter().any(u8::is_ascii_lowercase);
            prop_assume!(still_mixed);
            prop_assert_eq!(eip55(&bytes), Some(false));
        }
    }
}
