//! Inputs from (seed, target, case): random bytes, grammar-built JSON and frames, or mutated
//! seeds.

/// splitmix64: every case's generator is a pure function of its numbers.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, target: u64, case: u64) -> Self {
        let mut rng = Rng(seed ^ target.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.0 ^= case.wrapping_mul(0xd1b5_4a32_d192_ed03);
        rng.next();
        rng
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"false",
    b"-",
    b"0",
    b"1e999",
    b"-0.0e-0",
    b"9007199254740993",
    b"\\u0000",
    b"\\ud800",
    b"\\udfff\\ud800",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98\x80",
    b" ",
    b"\n",
    b"\"event\"",
    b"\"payload\"",
    b"\"type\":\"broadcast\"",
    b"\"at\":\"2099-12-31T23:59:59.999999999+14:00\"",
    b"\"casino_id\":\"11111111-1111-4111-8111-111111111111\"",
    b"\"meta\":{\"replayed\":true}",
    b"\"phx_reply\"",
    b"\"phx_close\"",
    b"\"system\"",
    b"\"status\":\"error\"",
    b"\"realtime:11111111-1111-4111-8111-111111111111\"",
    b"\"{casino_id}\"",
    b"\"{\"",
    b"\"queryKey\"",
    b"\"extend\"",
    b"\"replace\"",
    b"\"setQueryData\"",
    b"\"mergeQueryData\"",
];

const EVENT_NAMES: &[&str] = &[
    "visit.created",
    "rating_slip.updated",
    "loyalty.balance_updated",
    "table.fill_requested",
    "finance.outbox_processed",
    "table.activated",
    "floor_layout.activated",
    "nope",
    "",
];

/// A JSON-ish value from a small grammar, sometimes subtly wrong.
fn value(rng: &mut Rng, depth: usize, out: &mut Vec<u8>) {
    let pick = if depth > 6 {
        rng.below(6)
    } else {
        rng.below(9)
    };
    match pick {
        0 => out.extend_from_slice(b"null"),
        1 => out.extend_from_slice(if rng.chance(2) { b"true" } else { b"false" }),
        2 => out.extend_from_slice(rng.next().to_string().as_bytes()),
        3 => out.extend_from_slice(
            format!(
                "-{}.{}e{}",
                rng.below(1000),
                rng.below(99),
                rng.below(400) as i64 - 200
            )
            .as_bytes(),
        ),
        4 | 5 => {
            out.push(b'"');
            for _ in 0..rng.below(12) {
                out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
            }
            out.push(b'"');
        }
        6 => {
            out.push(b'[');
            for i in 0..rng.below(6) {
                if i > 0 {
                    out.push(b',');
                }
                value(rng, depth + 1, out);
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            for i in 0..rng.below(6) {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                out.extend_from_slice(b"\":");
                value(rng, depth + 1, out);
            }
            out.push(b'}');
        }
    }
}

/// A binary frame of a random kind with random lengths.
fn binary(rng: &mut Rng) -> Vec<u8> {
    let mut out = vec![rng.below(6) as u8];
    let fields = rng.below(7);
    for _ in 0..fields {
        out.push(rng.below(256) as u8);
    }
    for _ in 0..rng.below(80) {
        out.push(rng.below(256) as u8);
    }
    out
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = rng.below(256) as u8;
        }
        2 if len > 0 => {
            let (a, b) = (rng.below(len), rng.below(len));
            let (a, b) = (a.min(b), a.max(b));
            input.drain(a..b.min(a + 16));
        }
        3 => {
            let i = rng.below(len + 1);
            let token = TOKENS[rng.below(TOKENS.len())];
            input.splice(i..i, token.iter().copied());
        }
        4 if len > 1 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(32)).min(len);
            let chunk = input[a..b].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, chunk);
        }
        5 if !corpus.is_empty() => {
            // Splice: a prefix of this and a suffix of another seed.
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        6 => input.truncate(rng.below(len + 1)),
        7 => {
            // Deep nesting or a long run, where recursion and loops show.
            let i = rng.below(len + 1);
            let byte = [b'[', b'{', b'"', b'9', b'\\'][rng.below(5)];
            let run = vec![byte; 1 + rng.below(300)];
            input.splice(i..i, run);
        }
        8 if len > 0 => {
            // A length byte of a binary frame, or any byte, set to an edge value.
            let i = rng.below(len.min(8));
            input[i] = [0u8, 1, 2, 3, 4, 5, 127, 128, 254, 255][rng.below(10)];
        }
        _ => {
            let i = rng.below(len + 1);
            let mut v = Vec::new();
            value(rng, 3, &mut v);
            input.splice(i..i, v);
        }
    }
}

/// The input of one case.
pub fn generate(seed: u64, target: u64, case: u64, corpus: &[Vec<u8>], name: &str) -> Vec<u8> {
    let mut rng = Rng::new(seed, target, case);
    let mut input = match rng.below(8) {
        0 => (0..rng.below(64)).map(|_| rng.below(256) as u8).collect(),
        1 | 2 => {
            let mut v = Vec::new();
            if name == "event" {
                v.extend_from_slice(EVENT_NAMES[rng.below(EVENT_NAMES.len())].as_bytes());
                v.push(b'\n');
            }
            if name == "binary" || (name == "session" && rng.chance(2)) {
                v = binary(&mut rng);
            } else if name == "text-v2" || name == "session" {
                v.push(b'[');
                for i in 0..5 + rng.below(2) {
                    if i > 0 {
                        v.push(b',');
                    }
                    value(&mut rng, 1, &mut v);
                }
                v.push(b']');
            } else {
                value(&mut rng, 0, &mut v);
            }
            v
        }
        _ if !corpus.is_empty() => corpus[rng.below(corpus.len())].clone(),
        _ => Vec::new(),
    };
    for _ in 0..rng.below(9) {
        mutate(&mut rng, &mut input, corpus);
    }
    input
}

/// An input as printable text (bytes outside ASCII escaped), cut at 2,000 characters.
pub fn show(input: &[u8]) -> String {
    let mut out = String::new();
    for &b in input.iter().take(2_000) {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if input.len() > 2_000 {
        out.push_str(&format!("... ({} bytes)", input.len()));
    }
    out
}
