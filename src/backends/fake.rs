//! A backend for unit tests of the machinery around backends (fan-out, waiting). Its `mode`
//! says how `discover` behaves: "ok" finds one cluster, "slow" never answers, "fail" fails,
//! "missing" is unavailable (and must not be asked), "script" answers with the clusters of
//! `script` in turn (the last one repeats).

use super::*;
use crate::model::Origin;
use async_trait::async_trait;
use std::sync::Mutex;

pub struct Fake {
    pub name: &'static str,
    pub mode: &'static str,
    pub script: Mutex<Vec<Cluster>>,
}

impl Fake {
    pub fn new(name: &'static str, mode: &'static str) -> Fake {
        Fake {
            name,
            mode,
            script: Mutex::new(Vec::new()),
        }
    }

    pub fn scripted(name: &'static str, answers: Vec<Cluster>) -> Fake {
        Fake {
            script: Mutex::new(answers),
            ..Fake::new(name, "script")
        }
    }
}

#[async_trait]
impl Backend for Fake {
    fn name(&self) -> &'static str {
        self.name
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: false,
            scale: false,
            logs: false,
            delete: false,
            finds: &[],
            description: "",
        }
    }
    fn availability(&self) -> Availability {
        if self.mode == "missing" {
            Availability::Missing("no tools".into())
        } else {
            Availability::Ready
        }
    }
    async fn discover(&self) -> Result<Vec<Cluster>> {
        match self.mode {
            "slow" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(vec![])
            }
            "fail" => Err(Error::backend(self.name, "squeue: command failed")),
            "missing" => panic!("a missing backend must not be queried"),
            "script" => {
                let mut s = self.script.lock().unwrap();
                Ok(vec![if s.len() > 1 {
                    s.remove(0)
                } else {
                    s[0].clone()
                }])
            }
            _ => Ok(vec![Cluster::new("c1", self.name, Origin::Daskctl)]),
        }
    }
    async fn create(&self, _: &CreateRequest) -> Result<Cluster> {
        unreachable!()
    }
    async fn scale(&self, _: &Cluster, _: &ScaleRequest) -> Result<ScaleReport> {
        unreachable!()
    }
    async fn logs(&self, _: &Cluster, _: &LogRequest, _: &mut dyn LogSink) -> Result<()> {
        unreachable!()
    }
    async fn delete(&self, _: &Cluster, _: &DeleteRequest) -> Result<()> {
        unreachable!()
    }
}
