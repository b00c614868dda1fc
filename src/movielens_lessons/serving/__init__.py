"""The recommendation service (extra ``serve``: FastAPI and uvicorn): saved models answer HTTP
requests for known users, brand-new users (a history of movies), similar movies and rating
predictions. Nothing here is imported by ``movielens_lessons``; ``movielens-lessons serve`` imports
:mod:`movielens_lessons.serving.app` when it runs."""
