"""``python -m movielens_lessons`` runs the CLI."""

from movielens_lessons.cli import main

if __name__ == "__main__":
    main()
