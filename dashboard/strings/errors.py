"""A server's refusal as a page shows it: key -> (zh-CN, English). ``err_<reason>`` names the error class the API
gives in ``error.details.reason`` (``IllegalTransition``), ``err_<code>`` its family (``conflict``); the page
shows the first it has (static/js/refusal.js), the API's English ``message`` stays for API clients."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # families, for a refusal no more specific string covers
    "err_conflict": ("当前状态不允许此操作，请刷新页面后再试",
                     "The current state does not allow this; reload and try again"),
    "err_invalid": ("填写的内容有误，请检查后再试", "Something entered is not valid; check it and try again"),
    "err_forbidden": ("您的角色不能执行此操作", "Your role may not do this"),
    "err_not_found": ("记录不存在或已删除", "Not found"),
    "err_unauthenticated": ("登录已失效，请重新登录", "You are signed out; sign in again"),
    "err_rate_limited": ("操作过于频繁，请稍后再试", "Too many requests; try again shortly"),
    "err_too_large": ("文件过大", "The file is too large"),
    "err_unsupported_media_type": ("文件类型不支持", "This type of file is not accepted"),
    "err_unavailable": ("服务暂时不可用，请稍后再试", "The service is unavailable; try again shortly"),
    "err_internal": ("服务器出错，请稍后再试", "Server error; try again later"),
    "err_network": ("网络连接失败，请检查网络后再试", "No connection; check the network and try again"),
    # work orders
    "err_IllegalTransition": ("工单状态已变化，不能执行此操作，请刷新页面后再试",
                              "The order's state no longer allows this; reload the page and try again"),
    "err_AcceptConflict": ("其他人员已先接单", "Someone else accepted the order first"),
    "err_AcceptRefused": ("此工单未派给您，不能接单", "This order was not offered to you"),
    "err_AssigneeRequired": ("工单尚未指派处理人，请先派单", "Nobody is on the order yet: assign a crew member first"),
    "err_AssignRefused": ("不能指派给所选人员", "The order cannot be assigned to this crew member"),
    "err_InvalidCrew": ("所选人员不能处理此工单", "The chosen crew member cannot take this order"),
    "err_ReasonRequired": ("请填写原因", "A reason is required"),
    "err_NoteRequired": ("请填写处理说明（做了什么）", "Say what was done (a note is required)"),
    "err_CostRequired": ("该工单有待审批或已批准的维修资金申请，请登记人工和配件费用（大于0元）",
                         "A fund draw on this order is pending or approved: record the labour and parts "
                         "(above ¥0.00)"),
    "err_InvalidPhone": ("回访电话格式不正确：请填写11位手机号（如 13812345678）或带区号的固定电话（如 010-12345678）",
                         "Not a call-back number: give an 11-digit mobile (13812345678) or a landline with its area "
                         "code (010-12345678)"),
    "err_PhotoRejected": ("照片无法接收", "The photo was not accepted"),
    "err_WorkOrderNotFound": ("工单不存在", "No such order"),
    "err_CrewNotFound": ("人员不存在", "No such crew member"),
    # the maintenance fund
    "err_InvalidState": ("申请状态已变化，不能执行此操作，请刷新页面后再试",
                         "The draw's state no longer allows this; reload the page and try again"),
    "err_WrongApprover": ("您不能审核此申请", "You may not review this draw"),
    "err_WrongOrganiser": ("您不是此申请的组织方", "You are not this draw's organiser"),
    "err_NotEmergency": ("该工单不属于紧急维修，不能应急使用维修资金",
                         "The order is not an emergency repair: no emergency draw"),
    "err_InvalidAmount": ("金额无效", "The amount is not valid"),
    "err_EmptyScope": ("分摊范围内没有房屋", "No home lies in the chosen scope"),
    "err_SiteNotConfigured": ("本小区尚未设置维修资金", "The estate's maintenance fund is not set up"),
    "err_WrongOrderState": ("工单尚未验收，不能执行此操作", "The order's repair is not verified yet"),
    "err_CostMismatch": ("实际费用与工单记录不符", "The cost differs from what the order records"),
    "err_VoteRequired": ("超出授权金额，须经业主表决", "Above the authorised amount: the owners must vote"),
    "err_CategoryMismatch": ("工单类别与维修资金用途不符", "The order's category does not match the fund's use"),
    "err_UnknownWorkOrder": ("工单不存在", "No such order"),
    "err_NotInElectorate": ("您不在本次表决范围内", "You are not in this vote's electorate"),
    "err_Immutable": ("已公示的记录不能修改", "A published record cannot change"),
}
