// Flamenco 3 custom job type: reconstruct one LDR plate (image sequence or movie)
// into linear EXRs with singlehdr, split across workers, with one camera
// response for the whole shot.
//
// Install: copy this file into the Manager's `scripts/` folder (next to the
// flamenco-manager executable) and restart the Manager; the job type then
// appears as "SingleHDR Plate" (see docs/farm/README.md).
//
// Tasks:
//   1. "lock"      singlehdr reconstruct PLATE -o OUT --frames RANGE --lock-only
//                  estimates the shot lock once and writes OUT's sidecar JSON;
//   2. "chunk-K"   singlehdr reconstruct PLATE -o OUT --frames RANGE --chunk K/N --skip-existing
//                  for K = 1..N, each depending on "lock", so every chunk reads the same sidecar.
// singlehdr exits 0 (all frames done or kept), 2 (user error: nothing written)
// or 3 (some frames failed, listed in the task log); Flamenco fails the task on
// a non-zero exit, and a re-queued task only redoes missing or invalid frames
// (--skip-existing), never the finished ones.

const JOB_TYPE = {
    label: "SingleHDR Plate",
    description: "LDR plate (sequence or movie) to linear EXR with one camera response per shot",
    settings: [
        { key: "plate", type: "string", subtype: "file_path", required: true,
          description: "Input: a sequence pattern such as /shots/sh010/plate.####.jpg, or a movie file" },
        { key: "output", type: "string", subtype: "file_path", required: true,
          description: "Output pattern such as /shots/sh010/hdr/plate.####.exr (the sidecar goes beside it)" },
        { key: "frames", type: "string", required: true,
          description: "Frame range of the shot, e.g. 1001-1100 (for a movie: frames numbered from 1)" },
        { key: "chunks", type: "int32", default: 8, required: true,
          description: "Number of tasks the shot is split into (--chunk K/N)" },
        { key: "singlehdr", type: "string", default: "singlehdr", required: true,
          description: "The singlehdr executable on the workers (e.g. /opt/singlehdr/.venv/bin/singlehdr)" },
        { key: "device", type: "string", default: "auto", required: true,
          description: "auto, cuda, cuda:N, cpu; with one worker per GPU started with CUDA_VISIBLE_DEVICES=N, keep auto" },
        { key: "model", type: "string", subtype: "file_path", required: false,
          description: "Model .safetensors (empty: the shipped model)" },
        { key: "extra_args", type: "string", required: false,
          description: "More singlehdr reconstruct flags, e.g. --colorspace acescg --exposure median" },
    ]
};

function commonArgs(settings) {
    let args = [settings.plate, "-o", settings.output, "--frames", settings.frames, "--device", settings.device];
    if (settings.model) {
        args = args.concat(["--model", settings.model]);
    }
    if (settings.extra_args) {
        args = args.concat(settings.extra_args.split(" ").filter(a => a.length > 0));
    }
    return args;
}

function compileJob(job) {
    const settings = job.settings;
    const n = settings.chunks;
    if (!(n >= 1)) {
        throw "chunks must be at least 1";
    }
    const base = commonArgs(settings);

    const lockTask = author.Task("lock", "misc");
    lockTask.addCommand(author.Command("exec", {
        exe: settings.singlehdr,
        args: ["reconstruct"].concat(base, ["--lock-only"]),
    }));
    job.addTask(lockTask);

    for (let k = 1; k <= n; k++) {
        const task = author.Task(`chunk-${k}-of-${n}`, "misc");
        task.addCommand(author.Command("exec", {
            exe: settings.singlehdr,
            args: ["reconstruct"].concat(base, ["--chunk", `${k}/${n}`, "--skip-existing", "--json"]),
        }));
        task.addDependency(lockTask);
        job.addTask(task);
    }
}
