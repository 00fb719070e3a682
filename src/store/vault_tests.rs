use super::*;

#[test]
fn a_wrapped_key_opens_only_in_its_place_and_under_its_master() {
    let v = Vault::new(&[3; 32]);
    let w = v.wrap("hearing_keys|h1|recordings|ab", &[9; 32]).unwrap();
    assert_eq!(
        v.unwrap_key("hearing_keys|h1|recordings|ab", &w).unwrap(),
        [9; 32]
    );
    assert!(v.unwrap_key("hearing_keys|h2|recordings|ab", &w).is_err());
    assert!(
        v.unwrap_key("hearing_keys|h1|personal_data|ab", &w)
            .is_err()
    );
    assert!(
        Vault::new(&[4; 32])
            .unwrap_key("hearing_keys|h1|recordings|ab", &w)
            .is_err()
    );
}

#[test]
fn the_master_key_is_required_in_production_and_generated_in_development() {
    let dir = tempfile::tempdir().unwrap();
    let none = StorageConfig::default();
    let e = Vault::from_config(&none, true, dir.path()).unwrap_err();
    assert!(e.to_string().contains("master_key_file"), "{e}");
    Vault::from_config(&none, false, dir.path()).unwrap();
    let dev = dir.path().join("storage-master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dev).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let cfg = StorageConfig {
        master_key_file: dev,
    };
    Vault::from_config(&cfg, true, dir.path()).unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "abcd").unwrap();
    let cfg = StorageConfig {
        master_key_file: short,
    };
    assert!(Vault::from_config(&cfg, true, dir.path()).is_err());
}
