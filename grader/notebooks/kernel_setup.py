# The grader's hidden setup cell. Not imported by the grader: its text runs in the student's kernel
# before their first cell. It counts optimizer steps (torch's global step hook) so that the probe can
# tell a training loop that ran from one that only printed a loss.
def _fkp_count_optimizer_steps():
    counter = {"count": 0}
    try:
        from torch.optim.optimizer import register_optimizer_step_post_hook
    except Exception:  # noqa: BLE001 - no torch in this kernel: nothing to count
        return counter

    def count(optimizer, args, kwargs):
        counter["count"] += 1

    register_optimizer_step_post_hook(count)
    return counter


_fkp_optimizer_steps = _fkp_count_optimizer_steps()
del _fkp_count_optimizer_steps
