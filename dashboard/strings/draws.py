"""How a fund draw's page words the steps the system records (dispatch.fund.draws.DrawEvent.data): key -> (zh-CN,
English). ``{kind}`` is the draw's kind as ``own_kind_*`` names it, amounts are in yuan as recorded."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "draw_step_opened": ("{kind}，预算 ¥{estimate}", "{kind}; estimate ¥{estimate}"),
    "draw_step_opened_voted": ("{kind}（表决 #{vote}），预算 ¥{estimate}",
                               "{kind} (vote #{vote}); estimate ¥{estimate}"),
    "draw_step_opened_insurance": ("{kind}，保单 {policy}，保费 ¥{estimate}",
                                   "{kind}, policy {policy}; premium ¥{estimate}"),
    "draw_step_deemed_approved": ("{due} 前未审核，依本地规定视为同意",
                                  "No decision by {due}: deemed approved under the local rules"),
    "draw_step_escalated": ("{due} 前未审核，已上报住房和城乡建设主管部门",
                            "No decision by {due}: escalated to the housing authority"),
    "draw_step_completed": ("实际费用 ¥{actual}，预算 ¥{estimate}", "Actual cost ¥{actual}, estimate ¥{estimate}"),
    "draw_step_variance": ("实际费用与预算偏差超限，已标记", "The variance from the estimate is flagged"),
}
