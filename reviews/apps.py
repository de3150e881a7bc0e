from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Operational Requirements Review"

    def ready(self) -> None:
        # Registers the tasks, which the app enqueues by name, in every process (eager mode in tests too).
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        import reviews.tasks  # noqa: F401
        from proposals import checklists, search, workflow
        from proposals.signals import orr_answers_received, proposal_authors_changed, proposal_created
        from reviews.notifications import on_proposal_authors_changed
        from reviews.services import (
            on_group_membership_changed,
            on_orr_answers_received,
            on_proposal_created,
            search_parts,
            search_parts_many,
        )
        from reviews.status import orr_reasons, orr_signed_off, submit_reasons

        proposal_created.connect(on_proposal_created, dispatch_uid="reviews.create_orr_reviews")
        proposal_authors_changed.connect(on_proposal_authors_changed, dispatch_uid="reviews.tell_new_authors")
        orr_answers_received.connect(on_orr_answers_received, dispatch_uid="reviews.save_orr_answers")
        # Leaving a group ends the right to decide; named reviews return to the area's group.
        m2m_changed.connect(
            on_group_membership_changed,
            sender=get_user_model().groups.through,
            dispatch_uid="reviews.return_lapsed_assignments",
        )
        # The ORR's part of the proposal's gates and of its "ORR signed off" checklist item.
        workflow.add_gate_check(workflow.SUBMIT, submit_reasons)
        workflow.add_gate_check(workflow.APPROVE, orr_reasons)
        # Signed off only while the answers are those signed: an answer written with content can unsign it.
        checklists.register_verifier("orr:signed_off", orr_signed_off, reads=("orr:",), when_new=False)
        # ORR answers and review threads are found by the proposal search.
        search.register_source(search_parts, many=search_parts_many)
