class WorkflowError(Exception):
    """A refused operation; ``message`` is shown to the user as it is."""

    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RuleViolation(WorkflowError):
    """Bad or missing input for an otherwise allowed action (the form is shown again).

    ``messages``: every problem found, when the operation looked for all of them at once
    (see ``core.validation.Checks``); ``message`` joins them."""

    http_status = 400

    def __init__(self, message: str, *, messages: list[str] | None = None):
        super().__init__(message)
        self.messages = messages or [message]


class StateConflict(WorkflowError):
    """The report's state does not allow the action."""

    http_status = 409


class StaleLockVersion(StateConflict):
    """Someone changed the report after the form was loaded."""

    def __init__(self, message: str = "汇报已被他人修改，请刷新页面后再操作。"):
        super().__init__(message)


class DuplicateReport(StateConflict):
    """The unit already has its report for the period (perhaps started a moment ago by a
    colleague): open that one."""

    def __init__(self, report_id: int | None):
        super().__init__("本单位在该期次已有汇报（可能刚由同事创建），请打开原有汇报继续编辑。")
        self.report_id = report_id
