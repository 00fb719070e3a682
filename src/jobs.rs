//! Background jobs, each a task that stops when the shutdown flag flips. Modules register
//! their jobs in [`spawn_all`].

use tokio::{sync::watch, task::JoinHandle};

use crate::state::AppState;

pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut jobs = vec![
        tokio::spawn(crate::identity::sessions::sweep_expired(
            state.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::audit::checkpointer::run(state.clone(), stop.clone())),
        tokio::spawn(crate::hearing::lifecycle::no_show_job(
            state.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::hearing::presence::watcher(
            state.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::booking::urgent::sweeper(state.clone(), stop.clone())),
        tokio::spawn(crate::booking::jobs::no_show_job(
            state.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::sms::delivery::run_worker(
            state.clone(),
            stop.clone(),
        )),
    ];
    jobs.extend(crate::call::spawn_jobs(state, stop.clone()));
    jobs
}

/// Waits `period` or until stop; returns false when the job should end.
pub async fn tick(stop: &mut watch::Receiver<bool>, period: std::time::Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(period) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}
