-- The party's identity (issue 12 §2): the citizen's real name and resident ID number, each
-- encrypted at rest with AES-256-GCM (src/identity/data_key.rs: `v1.` + base64 of nonce,
-- ciphertext and tag; the row and column are the associated data). Written only by
-- src/identity/citizens.rs. `identity_at`: when it was last given (unix ms).
ALTER TABLE citizens ADD COLUMN real_name_enc TEXT;
ALTER TABLE citizens ADD COLUMN id_number_enc TEXT;
ALTER TABLE citizens ADD COLUMN identity_at BIGINT;
