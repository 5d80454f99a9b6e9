"""The model flags the PyTorch LM scripts share (scripts/train_step_torch.py, scripts/decode_step_torch.py):
the architecture and its dimensions, which scripts/bench_points.py passes from `retlab sizes --json`.
Torch-free, so that a script parses them before it sets the thread environment and imports torch."""


def add(ap):
    """Add --model, --size, --V, --D, --DV, --F, --L, --H to the argparse parser ap."""
    ap.add_argument("--model", default="retnet", choices=["retnet", "transformer"], help="architecture")
    ap.add_argument("--size", default="", help="ladder rung name, copied into the records")
    ap.add_argument("--V", type=int, default=256)
    ap.add_argument("--D", type=int, required=True)
    ap.add_argument("--DV", type=int, default=0, help="value dim (RetNet only, required there)")
    ap.add_argument("--F", type=int, required=True)
    ap.add_argument("--L", type=int, required=True)
    ap.add_argument("--H", type=int, required=True)


def check(ap, args):
    """Exit through ap.error when the flags do not describe a model."""
    if args.model == "retnet" and args.DV <= 0:
        ap.error("--DV is required for --model retnet")
