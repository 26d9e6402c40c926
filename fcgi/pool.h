/* pool.h: our own supervised pool of pre-forked workers on one socket. */
#ifndef POOL_H
#define POOL_H

struct pool_opts {
	const char	*listen;	/* "/path/to.sock", "HOST:PORT" or ":PORT" */
	int		 fd;		/* >= 0: a listening socket given (fd 0 of a
					   web server's bin-path); listen is its name */
	int		 workers;
	int		 socket_mode;	/* permissions of a Unix socket */
};

/* What the pool needs from the program: run one worker, re-read settings. */
struct pool_ops {
	int	(*worker)(int, void *);		/* serves on the fd; returns exit code */
	int	(*reload)(void *);		/* 0, or -1 to keep the old settings */
	void	(*log)(void *, const char *);
	void	 *arg;
};

int	pool_listen(const char *, int);
int	pool_run(const struct pool_opts *, const struct pool_ops *);

#endif
