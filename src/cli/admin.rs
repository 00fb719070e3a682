//! `remote-hearing admin …` and `remote-hearing demo`.

use std::io::Read;

use clap::Subcommand;
use secrecy::SecretString;

use crate::{
    booking::admin::BrigadeSettings,
    clock::SystemClock,
    config::Config,
    identity::{Role, staff},
    state::AppState,
};

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a brigade; prints its id.
    CreateBrigade {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: String,
        /// Seats per one-hour slot.
        #[arg(long, default_value_t = 4)]
        seats: i64,
        /// Opening hours, e.g. 09:00-12:00,13:30-17:30.
        #[arg(long, default_value = "09:00-12:00,13:30-17:30")]
        hours: String,
        /// Open weekdays, e.g. mon-fri or mon,wed,fri.
        #[arg(long, default_value = "mon-fri")]
        weekdays: String,
        /// Slot length in minutes.
        #[arg(long, default_value_t = 60)]
        slot_minutes: i64,
        /// Per-weekday hours, overriding --hours/--weekdays: mon-thu=09:00-12:00;fri=09:00-11:00
        #[arg(long)]
        week_hours: Option<String>,
        /// Closed dates (holidays), comma-separated YYYY-MM-DD.
        #[arg(long, value_delimiter = ',')]
        closed: Vec<chrono::NaiveDate>,
    },
    /// Change a brigade's schedule, seats or closed dates; prints its id.
    UpdateBrigade {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long)]
        seats: Option<i64>,
        #[arg(long)]
        slot_minutes: Option<i64>,
        #[arg(long)]
        hours: Option<String>,
        #[arg(long)]
        weekdays: Option<String>,
        /// Per-weekday hours (an empty string goes back to --hours/--weekdays).
        #[arg(long)]
        week_hours: Option<String>,
        /// Dates to close, comma-separated YYYY-MM-DD.
        #[arg(long, value_delimiter = ',')]
        close: Vec<chrono::NaiveDate>,
        /// Closed dates to reopen, comma-separated YYYY-MM-DD.
        #[arg(long, value_delimiter = ',')]
        reopen: Vec<chrono::NaiveDate>,
    },
    /// Create an officer, auditor or admin; reads the password from standard input; prints the id.
    CreateUser {
        #[arg(long)]
        role: String,
        #[arg(long)]
        badge: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        brigade: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a staff account: it can no longer log in and its sessions end at once.
    DisableUser {
        #[arg(long)]
        badge: String,
    },
    /// Enable a disabled staff account again.
    EnableUser {
        #[arg(long)]
        badge: String,
    },
}

async fn state_for(config: Config) -> anyhow::Result<AppState> {
    crate::startup::build_state(config, std::sync::Arc::new(SystemClock)).await
}

pub async fn execute(config: Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let state = state_for(config).await?;
    match cmd {
        AdminCommand::CreateBrigade {
            name,
            address,
            timezone,
            seats,
            hours,
            weekdays,
            slot_minutes,
            week_hours,
            closed,
        } => {
            let settings = BrigadeSettings {
                name: Some(name),
                address: Some(address),
                timezone: Some(timezone),
                seats: Some(seats),
                slot_minutes: Some(slot_minutes),
                hours: Some(hours),
                weekdays: Some(weekdays),
                week_hours,
                closed_dates: Some(closed),
            };
            let id = crate::booking::admin::create_brigade(&state, &settings)
                .await
                .map_err(cli_error)?;
            println!("{id}");
        }
        AdminCommand::UpdateBrigade {
            id,
            name,
            address,
            timezone,
            seats,
            slot_minutes,
            hours,
            weekdays,
            week_hours,
            close,
            reopen,
        } => {
            let settings = BrigadeSettings {
                name,
                address,
                timezone,
                seats,
                slot_minutes,
                hours,
                weekdays,
                week_hours,
                closed_dates: Some(close),
            };
            crate::booking::admin::update_brigade(&state, &id, &settings)
                .await
                .map_err(cli_error)?;
            crate::booking::admin::reopen_dates(&state, &id, &reopen)
                .await
                .map_err(cli_error)?;
            println!("{id}");
        }
        AdminCommand::CreateUser {
            role,
            badge,
            name,
            brigade,
            password_stdin,
        } => {
            let role = Role::parse(&role)
                .filter(|r| r.is_staff())
                .ok_or_else(|| anyhow::anyhow!("--role must be officer, auditor or admin"))?;
            if !password_stdin {
                anyhow::bail!("give the password on standard input with --password-stdin");
            }
            let mut pw = String::new();
            std::io::stdin().read_to_string(&mut pw)?;
            let pw = pw.trim_end_matches(['\r', '\n']).to_string();
            let id = staff::create(
                &state,
                staff::NewStaff {
                    role,
                    badge,
                    name,
                    brigade_id: brigade,
                    password: SecretString::from(pw),
                },
            )
            .await?;
            println!("{id}");
        }
        AdminCommand::DisableUser { badge } => set_disabled(&state, &badge, true).await?,
        AdminCommand::EnableUser { badge } => set_disabled(&state, &badge, false).await?,
    }
    Ok(())
}

/// Disables or enables the account with `badge` (audit actor: admin `cli`); prints its id.
async fn set_disabled(state: &AppState, badge: &str, disabled: bool) -> anyhow::Result<()> {
    let row = staff::find_by_badge(state, badge)
        .await?
        .ok_or_else(|| anyhow::anyhow!("--badge no staff account has badge {badge}"))?;
    crate::identity::staff_admin::set_disabled(&state.identity, "cli", &row.id, disabled)
        .await
        .map_err(cli_error)?;
    println!("{}", row.id);
    Ok(())
}

/// `--field message` from a validation error.
fn cli_error(e: crate::error::AppError) -> anyhow::Error {
    match e.field {
        Some(f) => anyhow::anyhow!("--{} {}", f.replace('_', "-"), e.message),
        None => anyhow::anyhow!("{}", e.message),
    }
}

/// Inserts a brigade after checking its fields (booking::admin); returns the id.
pub async fn create_brigade(
    state: &AppState,
    name: &str,
    address: &str,
    timezone: &str,
    seats: i64,
    hours: &str,
    weekdays: &str,
) -> anyhow::Result<String> {
    let settings = BrigadeSettings {
        name: Some(name.into()),
        address: Some(address.into()),
        timezone: Some(timezone.into()),
        seats: Some(seats),
        hours: Some(hours.into()),
        weekdays: Some(weekdays.into()),
        ..Default::default()
    };
    crate::booking::admin::create_brigade(state, &settings)
        .await
        .map_err(cli_error)
}

const DEMO_BRIGADE: &str = "演示交警大队";
const DEMO_USERS: [(&str, Role, &str, &str); 3] = [
    ("officer", Role::Officer, "100001", "demo-officer-1"),
    ("auditor", Role::Auditor, "200001", "demo-auditor-1"),
    ("admin", Role::Admin, "900001", "demo-admin-1"),
];

/// Creates the demo brigade and users once; prints their logins.
pub async fn demo(config: Config) -> anyhow::Result<()> {
    if config.is_production() {
        anyhow::bail!("demo accounts are not created in production mode");
    }
    let state = state_for(config).await?;
    let existing: Option<(String,)> =
        sqlx::query_as("SELECT id FROM brigades WHERE name = $1 ORDER BY created_at LIMIT 1")
            .bind(DEMO_BRIGADE)
            .fetch_optional(&state.db.read)
            .await?;
    let brigade = match existing {
        Some((id,)) => id,
        None => {
            let id = create_brigade(
                &state,
                DEMO_BRIGADE,
                "演示市人民路1号",
                "Asia/Shanghai",
                4,
                "08:00-20:00",
                "mon-sun",
            )
            .await?;
            let facts = crate::hearing::decision::facts::BrigadeFacts {
                doc_code: "演公交决字".into(),
                review_body: "演示市公安局".into(),
                court: "演示市人民法院".into(),
                pay_place: "交管12123 App 或演示市内代收罚款银行".into(),
            };
            let now = chrono::Utc::now().timestamp_millis();
            crate::hearing::decision::facts::set(&state.db.write, &id, &facts, now).await?;
            id
        }
    };
    println!("brigade {brigade}");
    for (label, role, badge, password) in DEMO_USERS {
        if staff::find_by_badge(&state, badge).await?.is_none() {
            let brigade_id = (role == Role::Officer).then(|| brigade.clone());
            let name = format!(
                "演示{}",
                match role {
                    Role::Officer => "民警",
                    Role::Auditor => "审计员",
                    _ => "管理员",
                }
            );
            staff::create(
                &state,
                staff::NewStaff {
                    role,
                    badge: badge.into(),
                    name,
                    brigade_id,
                    password: SecretString::from(password),
                },
            )
            .await?;
        }
        println!("{label} {badge} {password}");
    }
    Ok(())
}
