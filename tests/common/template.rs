//! Documents with number slots, for tests that check a converted file is byte-identical to its
//! input except for the coordinates.

/// A document with number slots (`@`): text pieces around each number.
pub struct Template {
    pieces: Vec<Vec<u8>>,
}

impl Template {
    /// `text` with `@` marking each number slot.
    pub fn new(text: &[u8]) -> Self {
        Template { pieces: text.split(|&b| b == b'@').map(<[u8]>::to_vec).collect() }
    }
    /// How many numbers the document holds.
    pub fn slots(&self) -> usize {
        self.pieces.len() - 1
    }
    /// The document with `numbers` in its slots.
    pub fn fill(&self, numbers: &[f64]) -> Vec<u8> {
        assert_eq!(numbers.len(), self.slots());
        let mut out = self.pieces[0].clone();
        for (n, piece) in numbers.iter().zip(&self.pieces[1..]) {
            out.extend_from_slice(format!("{n}").as_bytes());
            out.extend_from_slice(piece);
        }
        out
    }
    /// The numbers of `doc`, asserting that every other byte is the template's.
    pub fn numbers(&self, doc: &[u8]) -> Vec<f64> {
        let mut at = 0;
        let mut numbers = Vec::new();
        for (k, piece) in self.pieces.iter().enumerate() {
            if k > 0 {
                let len = doc[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
                    .count();
                let token = std::str::from_utf8(&doc[at..at + len]).unwrap();
                numbers.push(token.parse::<f64>().unwrap_or_else(|_| panic!("number {token:?}")));
                at += len;
            }
            assert!(
                doc[at..].starts_with(piece),
                "bytes differ at {at}: expected {:?}, found {:?}",
                String::from_utf8_lossy(piece),
                String::from_utf8_lossy(&doc[at..(at + piece.len() + 10).min(doc.len())])
            );
            at += piece.len();
        }
        assert_eq!(at, doc.len(), "trailing bytes");
        numbers
    }
}
