//! The few PEM blocks the proxy writes: its CA's certificate and key, and
//! the CA bundle the workers trust.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// `der` as a PEM block labelled `label` (`CERTIFICATE`, `PRIVATE KEY`),
/// 64 characters a line, ending with a newline.
pub(super) fn encode(label: &str, der: &[u8]) -> String {
    let text = STANDARD.encode(der);
    let mut pem = String::with_capacity(text.len() + text.len() / 64 + 2 * label.len() + 40);
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    for line in text.as_bytes().chunks(64) {
        // Base64 is ASCII, so every slice of it is UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    #[test]
    fn a_block_reads_back_as_the_same_bytes() {
        let der: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let pem = super::encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|line| line.len() <= 64));
        let read = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(read.as_ref(), der.as_slice());
    }
}
